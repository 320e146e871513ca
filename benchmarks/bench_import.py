"""Cold import time of each handler module, as Lambda pays it on a cold start (median of 5 fresh interpreters).

Each run is a new `python` process with the function's environment from template.yaml and the layer on the
path, timing only `import app` (interpreter start-up excluded). Target: under 250 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from local.cfn import Template

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
TARGET_MS = 250
PROBE = (
    "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; started = time.perf_counter(); "
    "__import__(sys.argv[3]); print((time.perf_counter() - started) * 1000)"
)


def handler_environment(template: Template, function: str) -> dict[str, str]:
    """What Lambda would set: the function's Variables (parameter defaults; placeholders for resource ids)."""
    environment = {}
    for key, value in template.functions()[function].environment.items():
        try:
            environment[key] = str(template.resolve(value))
        except (KeyError, ValueError):
            environment[key] = "placeholder"  # a resource's physical id: not read at import
    return {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "PYENV_VERSION"}},
        **environment,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",  # deployed with Tracing: Active, so X-Ray is imported
        "SCORING_MODELS_DIR": str(ROOT / "scoring"),
    }


def cold_import_ms(code_dir: Path, module: str, environment: dict[str, str]) -> float:
    layer = ROOT / "layers" / "leadscore"
    samples = []
    for _ in range(RUNS):
        output = subprocess.run(  # noqa: S603 - our own interpreter and probe
            [sys.executable, "-X", "frozen_modules=on", "-c", PROBE, str(code_dir), str(layer), module],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            cwd=code_dir,
        )
        samples.append(float(output.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, float]:
    del quick  # five runs per handler are already quick
    template = Template(ROOT / "template.yaml")
    results = {}
    for name, function in sorted(template.functions().items()):
        module = function.handler.split(".")[0]
        milliseconds = cold_import_ms(function.code_dir, module, handler_environment(template, name))
        verdict = "meets" if milliseconds < TARGET_MS else "ABOVE"
        say(f"  {name:<24} import: {milliseconds:6.0f} ms median of {RUNS} ({verdict} the {TARGET_MS} ms target)")
        results[f"cold import {name} (ms)"] = milliseconds
    return results


if __name__ == "__main__":
    main()
