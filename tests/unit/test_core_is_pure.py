"""The scoring core imports neither boto3 nor Powertools, so it is fast to import and testable alone."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import leadscore.core

CORE_MODULES = sorted(f"leadscore.core.{module.name}" for module in pkgutil.iter_modules(leadscore.core.__path__))
FORBIDDEN = ("boto3", "botocore", "aws_lambda_powertools", "aws_xray_sdk")


def test_importing_the_whole_core_loads_no_aws_library() -> None:
    # Given a fresh interpreter
    probe = (
        f"import sys; import {', '.join(CORE_MODULES)}; "
        f"print(','.join(sorted(name for name in sys.modules if name.split('.')[0] in {FORBIDDEN!r})))"
    )

    # When it imports every core module
    layer = Path(leadscore.core.__file__).parents[2]
    loaded = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(layer)}
    ).stdout.strip()

    # Then none of the AWS libraries came with it
    assert len(CORE_MODULES) >= 7
    assert loaded == ""
