"""The lock files pin every requirement, at a version its range allows, the same in both, with hashes.

When a requirement is added or changed, `make lock` re-pins; until then these tests name what is missing.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_LOCK = "layers/leadscore/requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, str]:
    """Package -> pinned version; every pin must carry at least one hash."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{lock}: {match.group(1)} has no hash"
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def requirements_txt(path: str) -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def pyproject() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]

    def expanded(texts: list[str]) -> list[Requirement]:
        # `leadscore[cli]` in an extra names the project's own extras: the lock pins what they list
        requirements = []
        for requirement in map(Requirement, texts):
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                requirements += expanded([text for extra in requirement.extras for text in extras[extra]])
            else:
                requirements.append(requirement)
        return requirements

    return {"runtime": expanded(project["dependencies"]), "dev": expanded(extras["dev"])}


def unmet(requirements: list[Requirement], locked: dict[str, str]) -> list[str]:
    problems = []
    for requirement in requirements:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} (locked: {version})")
    return problems


def test_the_lambda_lock_pins_every_layer_requirement_in_range() -> None:
    assert unmet(requirements_txt("layers/leadscore/requirements.txt"), pins(LAMBDA_LOCK)) == [], "run `make lock`"


@pytest.mark.parametrize("group", ["runtime", "dev"])
def test_the_dev_lock_pins_every_project_requirement_in_range(group: str) -> None:
    assert unmet(pyproject()[group], pins("requirements-dev.lock")) == [], "run `make lock`"


def test_both_locks_pin_shared_packages_alike() -> None:
    # Tests run against the versions the Lambda package ships
    runtime, dev = pins(LAMBDA_LOCK), pins("requirements-dev.lock")
    assert {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version} == {}


def test_the_layer_requirements_install_the_pinned_versions() -> None:
    # pip reads `-c` relative to the requirements file: sam build and `pip install -r` both get the pins
    lines = (ROOT / "layers/leadscore/requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "-c requirements.lock" in lines


def test_the_layer_requirements_and_the_project_dependencies_name_the_same_packages() -> None:
    layer = {canonicalize_name(r.name) for r in requirements_txt("layers/leadscore/requirements.txt")}
    assert layer == {canonicalize_name(r.name) for r in pyproject()["runtime"]}
