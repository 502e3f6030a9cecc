"""The `minigroups` command line documents itself: every command and option has a help line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from minigroups.entrypoints.cli import build_parser, main


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """`parser` and every subparser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from parsers(child)


def test_every_command_is_listed_with_a_help_line() -> None:
    for parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest: choice.help for choice in action._choices_actions}
                assert set(listed) == set(action.choices), parser.prog
                assert all(listed.values()), (parser.prog, listed)


def test_every_option_has_a_help_text() -> None:
    checked = 0
    for parser in parsers(build_parser()):
        for action in parser._actions:
            assert action.help, f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
            checked += 1
    assert checked > 20


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == "minigroups 0.1.0\n"
