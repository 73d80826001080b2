"""``civictwin report`` (being built: the command is registered by add_report_command)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_report_command"]


def add_report_command(sub: Any) -> None:
    """Add ``report`` to the subparsers ``sub``."""
