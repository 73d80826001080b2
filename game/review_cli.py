"""``civictwin review`` (being built: the command is registered by add_review_command)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_review_command"]


def add_review_command(sub: Any) -> None:
    """Add ``review`` to the subparsers ``sub``."""
