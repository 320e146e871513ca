"""Unit tests never touch the network: every socket is disabled, for every test in this directory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from pytest_socket import disable_socket, enable_socket

# CI must not fail at random on an example nobody can reproduce: there, hypothesis draws the same examples
# every run (and prints the blob to reproduce a failure). Elsewhere every run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
