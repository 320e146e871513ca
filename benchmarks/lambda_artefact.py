"""The deployed artefact, as Lambda sees it: `sam build`, SAM's own zip, unpacked read-only.

`sam build` runs the Makefiles the template names (layers/leadscore/Makefile, functions/Makefile); each
function and layer directory is zipped with aws-sam-cli's own zip code (every entry dated 1980-01-01, as
`sam deploy` uploads it) and unpacked the way Lambda mounts it: functions in a task root, layers merged into
one /opt, files dated as in the zip, no write permission. The build is cached under .aws-sam/artefact/
and redone when any of its inputs change.

The wheels are built for this machine's architecture (LAMBDA_ARCH), so the benchmark and the tests can
import the result; `make build` builds for the template's (arm64) with the same Makefiles.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from local.cfn import Template

ROOT = Path(__file__).resolve().parents[1]
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
INPUTS = ("template.yaml", "layers", "functions", "scoring")
# aws-sam-cli's zip code: what `sam package`/`sam deploy` uploads (entries dated 1980-01-01).
SAM_ZIP = "from samcli.lib.package.utils import make_zip; import sys; print(make_zip(sys.argv[1], sys.argv[2]))"


def host_arch() -> str:
    return "arm64" if platform.machine().lower() in {"aarch64", "arm64"} else "x86_64"


@dataclass(frozen=True)
class Artefact:
    root: Path  # the unpacked tree: task/<FunctionLogicalId>/, opt/
    build_dir: Path  # what `sam build` wrote (one directory per function and layer)
    zips: dict[str, Path]

    def task_root(self, function: str) -> Path:
        return self.root / "task" / function

    @property
    def opt(self) -> Path:
        return self.root / "opt"


def _fingerprint(source: Path, pyc_mode: str) -> str:
    digest = hashlib.sha256(f"{host_arch()} {sys.version} {pyc_mode}".encode())
    for name in INPUTS:
        base = source / name
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(source)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def sam_build(source: Path, build_dir: Path, pyc_mode: str = "unchecked-hash") -> None:
    if not SAM_PYTHON.exists():
        raise RuntimeError(f"{SAM_PYTHON} is missing: run `make .venv-sam/.installed` (make build installs it)")
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "LAMBDA_ARCH": host_arch(),
        "LAMBDA_PYTHON": sys.executable,
        "PYC_MODE": pyc_mode,
    }
    subprocess.run(  # noqa: S603 - our own SAM CLI on our own template
        [str(SAM_PYTHON.parent / "sam"), "build", "--template-file", str(source / "template.yaml"),
         "--build-dir", str(build_dir), "--base-dir", str(source)],
        env=environment, check=True, capture_output=True, text=True, cwd=source,
    )  # fmt: skip


def sam_zip(directory: Path, zip_base: Path) -> Path:
    zip_base.parent.mkdir(parents=True, exist_ok=True)
    output = subprocess.run(  # noqa: S603 - aws-sam-cli's own zip function
        [str(SAM_PYTHON), "-c", SAM_ZIP, str(zip_base), str(directory)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Path(output.stdout.strip().splitlines()[-1])


def unpack(archive: Path, target: Path) -> None:
    """Extract as Lambda does: the zip's dates kept (1980-01-01 from SAM), nothing writable."""
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            path = Path(bundle.extract(info, target))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))


def make_read_only(tree: Path) -> None:
    for path in [tree, *tree.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(tree: Path) -> None:
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def snapshot(tree: Path) -> set[str]:
    return {str(path.relative_to(tree)) for path in tree.rglob("*")}


def built_artefact(
    source: Path = ROOT, cache: Path | None = None, say: object = None, pyc_mode: str = "unchecked-hash"
) -> Artefact:
    """Build (or reuse) the artefact of `source` and unpack it; returns where it lies.

    `pyc_mode` is the Makefiles' PYC_MODE: unchecked-hash (what `make build` ships), timestamp, none.
    """
    cache = cache or source / ".aws-sam" / "artefact"
    key = _fingerprint(source, pyc_mode)
    home = cache / key
    ready = home / "READY"
    if not ready.exists():
        if home.exists():
            make_writable(home)
            shutil.rmtree(home)
        home.mkdir(parents=True)
        if callable(say):
            say(f"  sam build ({host_arch()} wheels) into {home} ...")
        sam_build(source, home / "build", pyc_mode)
        template = Template(source / "template.yaml")
        layers = template.of_type("AWS::Serverless::LayerVersion")
        # What sam build wrote, and the layers SAM zips as they are (no BuildMethod: the scoring models).
        packages = {path.name: path for path in (home / "build").iterdir() if path.is_dir()}
        packages |= template.layer_dirs()
        for name, directory in sorted(packages.items()):
            archive = sam_zip(directory, home / "zips" / name)
            unpack(archive, home / "unpacked" / ("opt" if name in layers else f"task/{name}"))
        make_read_only(home / "unpacked")
        ready.write_text(key)
    zips = {path.stem: path for path in sorted((home / "zips").glob("*.zip"))}
    return Artefact(root=home / "unpacked", build_dir=home / "build", zips=zips)
