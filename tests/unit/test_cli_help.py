"""Every `leadscore` command prints its help: option texts are rich markup, so a stray '[/x]' crashes --help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from leadscore_cli.main import app

COMMANDS = sorted(command.name or "" for command in app.registered_commands) + sorted(
    group.name or "" for group in app.registered_groups
)


def test_the_app_registers_commands() -> None:
    # Given the CLI app / Then it has the commands the README documents (a guard for the parametrised test)
    assert {"replay", "rescore", "evaluate", "train", "lead", "hot"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_prints_its_help(command: str) -> None:
    # Given a command / When its help is asked for
    result = CliRunner().invoke(app, [command, "--help"])
    # Then it prints the usage and exits 0 (a markup error would surface as an exception and exit 1)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
