"""The unit suite runs with sockets disabled (conftest.py), so nothing here can reach AWS by accident."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketBlockedError


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_opening_a_socket_fails() -> None:
    # Given the unit-test conftest / When code tries to open a socket / Then it is blocked
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
