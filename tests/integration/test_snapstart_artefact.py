"""SnapStart on the deployed package: the handlers register their hooks with the library Lambda's runtime
ships, and an environment restored after those hooks serves its first event.

The built, zipped and unpacked artefact (see test_built_artefact.py), run as bench_snapstart.py runs it:
INIT and the before-snapshot hooks in one interpreter, then a forked restore that runs the after-restore
hooks and the first event. Counts and answers only, never times.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_snapstart import run_snapstart, runtime_directory
from benchmarks.lambda_artefact import Artefact, built_artefact
from local.stack import EmulatedStack
from tests.integration.test_built_artefact import HANDLERS, first_event

pytestmark = pytest.mark.artefact


@pytest.fixture(scope="session")
def artefact() -> Artefact:
    return built_artefact()


@pytest.mark.parametrize("function", HANDLERS)
def test_a_restored_handler_ran_its_priming_before_the_snapshot_and_serves_its_first_event(
    stack: EmulatedStack, artefact: Artefact, function: str
) -> None:
    # Given the deployed handler imported with snapshot_restore_py on the path, as in Lambda's runtime
    events = first_event(stack, artefact, function)
    # When Lambda would snapshot it (before-snapshot hooks) and restore it for its first event
    with runtime_directory() as runtime:
        figures = run_snapstart(stack, artefact, runtime, function, events)
    # Then the handler's priming and the shared sealing ran before the snapshot, the re-seed after the restore
    assert figures.hooks == (2, 1)
    # And the restored environment served the event
    [restore] = figures.restores
    assert restore.response is not None
    if function == "IngestWebhookFunction":
        assert restore.response["statusCode"] == 202
    else:
        assert restore.response == {"batchItemFailures": []}
