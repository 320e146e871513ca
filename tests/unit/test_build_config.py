"""template.yaml and the Makefiles `sam build` runs must agree (see docs/deploy.md "Lint, build").

Every package is built by a Makefile that compiles hash-based .pyc; a function or layer left to SAM's python
builder would ship none, and every cold start would compile its modules again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == "AWS::Serverless::Function"}


def makefile_default(path: Path, variable: str) -> str:
    match = re.search(rf"^{variable} \?= (\S+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path} sets no default for {variable}"
    return match.group(1)


def test_every_function_is_built_by_functions_makefile(template: dict[str, Any]) -> None:
    # Given every function in the template
    for name, body in functions(template).items():
        metadata = body.get("Metadata", {})
        # Then it names the Makefile build, and the directory the Makefile derives from its name is its CodeUri
        assert (metadata.get("BuildMethod"), metadata.get("ContextPath")) == ("makefile", "functions"), (
            f"{name}: add `BuildMethod: makefile` and `ContextPath: functions` to its Metadata"
        )
        snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.removesuffix("Function")).lower()
        assert body["Properties"]["CodeUri"].rstrip("/") == f"functions/{snake}"
        assert (ROOT / "functions" / snake / "app.py").is_file()


def test_the_layer_is_built_for_the_functions_architecture(template: dict[str, Any]) -> None:
    # Given the architecture the functions run on
    [architecture] = template["Globals"]["Function"]["Architectures"]
    layer = template["Resources"]["LeadscoreLayer"]

    # Then the layer is built by its Makefile, for that architecture, by default
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == architecture
    assert layer["Properties"]["CompatibleArchitectures"] == [architecture]
    assert makefile_default(ROOT / "layers" / "leadscore" / "Makefile", "LAMBDA_ARCH") == architecture


@pytest.mark.parametrize("makefile", ["layers/leadscore/Makefile", "functions/Makefile"])
def test_both_makefiles_ship_unchecked_hash_pyc_by_default(makefile: str) -> None:
    assert makefile_default(ROOT / makefile, "PYC_MODE") == "unchecked-hash"
