"""``civictwin wall`` (being built: the command is registered by add_wall_command)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_wall_command"]


def add_wall_command(sub: Any) -> None:
    """Add ``wall`` to the subparsers ``sub``."""
