"""The package `sam build` makes runs on its own bytecode: nothing is compiled at a cold start.

Built once per machine and cached (.aws-sam/artefact/, rebuilt when template.yaml, layers/, functions/ or
scoring/ change; the first build takes a minute or two): `sam build` with the template's Makefiles, zipped by
aws-sam-cli's own zip code (entries dated 1980-01-01), unpacked with those dates and without write
permission. Each handler is then imported and given a first event in a fresh interpreter with Lambda's
environment, against the emulated stack. Counts only, never times.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_cold_start as bench
from benchmarks.lambda_artefact import Artefact, built_artefact, make_read_only, make_writable
from local.stack import EmulatedStack

pytestmark = pytest.mark.artefact

HANDLERS = ("IngestWebhookFunction", "ScoreEventsFunction", "DecayScoresFunction")
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


@pytest.fixture(scope="session")
def artefact() -> Artefact:
    return built_artefact()


def first_event(stack: EmulatedStack, artefact: Artefact, function: str) -> list[dict[str, Any]]:
    if function == "IngestWebhookFunction":
        return [bench.form_webhook(stack, 1)]
    if function == "ScoreEventsFunction":
        webhook = [bench.form_webhook(stack, 2)]
        run = bench.run_once(stack, artefact, bench.RequestLog(), "IngestWebhookFunction", webhook)
        assert run.invocations[0].response is not None
        assert run.invocations[0].response["statusCode"] == 202
        return [bench.sqs_event(bench.queued_records(stack, 1))]
    return [bench.sqs_event([bench.decay_segment_record(stack)])]


def pyc_flags(pyc: Path) -> int:
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_sam_zipped_every_entry_with_the_1980_date(artefact: Artefact) -> None:
    # Given the zips aws-sam-cli made of the built functions and layers
    # Then every entry carries the date that invalidates timestamp-based .pyc
    assert set(artefact.zips) >= {*HANDLERS, "LeadscoreLayer"}
    for archive in artefact.zips.values():
        with zipfile.ZipFile(archive) as bundle:
            assert {info.date_time[:3] for info in bundle.infolist()} == {(1980, 1, 1)}


def test_every_module_ships_an_unchecked_hash_pyc(artefact: Artefact) -> None:
    # Given every Python source in the unpacked layer and function packages
    sources = [path for path in artefact.root.rglob("*.py") if "__pycache__" not in path.parts]
    assert len(sources) > 400  # the layer: leadscore, Powertools, boto3, pydantic...
    # Then each has its .pyc beside it, hash-based and never checked against the (1980-dated) source
    missing, checked = [], []
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        if not pyc.exists():
            missing.append(source)
        elif pyc_flags(pyc) != UNCHECKED_HASH:
            checked.append(source)
    assert missing == []
    assert checked == []


@pytest.mark.parametrize("function", HANDLERS)
def test_a_cold_start_compiles_nothing_and_writes_nothing(
    stack: EmulatedStack, artefact: Artefact, function: str
) -> None:
    # Given a fresh interpreter laid out as Lambda runs the deployed package, and the handler's first event
    events = first_event(stack, artefact, function)

    # When it imports the handler and handles the event
    run = bench.run_once(stack, artefact, bench.RequestLog(), function, events)

    # Then the event was handled with hundreds of modules from the artefact, every one from its .pyc:
    # no source compiled (audit hook on "compile"), none without its cached file, no file written
    response = run.invocations[0].response
    assert response is not None
    assert response.get("statusCode", 200) < 300
    assert response.get("batchItemFailures", []) == []
    assert run.modules > 300
    assert run.compiled == []
    assert run.uncached == []
    assert run.new_files == []


@pytest.fixture
def artefact_without_our_pyc(artefact: Artefact, tmp_path: Path) -> Iterator[Artefact]:
    """A copy of the artefact whose leadscore package lost its .pyc (what SAM's python builder ships)."""
    copy = tmp_path / "unpacked"
    shutil.copytree(artefact.root, copy, symlinks=True)
    make_writable(copy)
    for cache in (copy / "opt" / "python" / "leadscore").rglob("__pycache__"):
        shutil.rmtree(cache)
    make_read_only(copy)
    yield Artefact(root=copy, build_dir=artefact.build_dir, zips=artefact.zips)
    make_writable(copy)


def test_the_probe_sees_sources_compiled_when_pyc_are_missing(
    stack: EmulatedStack, artefact_without_our_pyc: Artefact
) -> None:
    # Given the artefact without the leadscore package's .pyc
    events = [bench.form_webhook(stack, 3)]

    # When the webhook handler cold-starts on it
    run = bench.run_once(stack, artefact_without_our_pyc, bench.RequestLog(), "IngestWebhookFunction", events)

    # Then the checks above would fail: leadscore's modules were compiled from source, and their .pyc were
    # either missing afterwards or written into the package (root ignores the read-only permissions)
    assert any("/leadscore/" in path for path in run.compiled)
    assert any(name.startswith("leadscore") for name in run.uncached) or any(
        "leadscore/" in path and path.endswith(".pyc") for path in run.new_files
    )


ENDPOINTS = """
import json, sys
import botocore.session
session = botocore.session.get_session()
found = {}
for service in sys.argv[1].split(","):
    for region in ("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"):
        client = session.create_client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
        found[f"{service} {region}"] = client.meta.endpoint_url
print(json.dumps({"botocore": botocore.__file__, "endpoints": found}))
"""


def endpoints_from(python_path: str, services: list[str]) -> dict[str, Any]:
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": python_path, "PYTHONDONTWRITEBYTECODE": "1"}
    output = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-S" if python_path else "-I", "-c", ENDPOINTS, ",".join(services)],
        env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def test_the_trimmed_botocore_resolves_our_services_as_the_full_one_does(artefact: Artefact) -> None:
    # Given the layer's botocore (its data trimmed to botocore-services.txt) and the full one the tests use
    listed = (bench.ROOT / "layers" / "leadscore" / "botocore-services.txt").read_text().splitlines()
    services = [line.strip() for line in listed if line.strip() and not line.startswith("#")]
    layer = str(artefact.opt / "python")
    data = artefact.opt / "python" / "botocore" / "data"
    assert sorted(path.name for path in data.iterdir() if path.is_dir()) == sorted(services)

    # When each listed service's client is created in one region of each of four partitions, with each
    trimmed, full = endpoints_from(layer, services), endpoints_from("", services)

    # Then the layer's botocore was the one used, and every endpoint is the same
    assert trimmed["botocore"].startswith(layer)
    assert not full["botocore"].startswith(layer)
    assert trimmed["endpoints"] == full["endpoints"]
    assert len(trimmed["endpoints"]) == 4 * len(services)
