"""The README stays true: every command it lists exists, and the quick start is two commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cybersyn.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text()


def _listed_commands() -> list[tuple[str, ...]]:
    """The command words of every `cybersyn ...` snippet in the README's CLI table."""
    table = README.split("## The CLI at a glance", 1)[1].split("\n## ", 1)[0]
    commands = set()
    for snippet in re.findall(r"`cybersyn ([^`]+)`", table):
        words = []
        for word in snippet.split():
            if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
                break
            words.append(word)
        commands.add(tuple(words))
    return sorted(commands)


def test_quick_start_is_two_commands() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize("command", _listed_commands(), ids=" ".join)
def test_every_listed_command_exists(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output


def test_every_top_level_command_is_in_the_readme() -> None:
    import typer.main

    group = typer.main.get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    listed = {c[0] for c in _listed_commands()}
    assert names <= listed, f"undocumented commands: {sorted(names - listed)}"
