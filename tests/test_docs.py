"""Every `civictwin` subcommand is documented in the README (sqlite-utils keeps the same rule)."""

from __future__ import annotations

import argparse

from game.cli import build_parser
from tests.conftest import ROOT


def test_every_subcommand_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subparsers.choices) >= 3
    missing = [name for name in subparsers.choices if f"civictwin {name}" not in readme]
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:1200]
    assert "make run" in head and "make test" in head
