"""argparse value types shared by the ``civictwin`` subcommands: a bounded number with a
sentence when it is not one (argparse turns it into a usage error, exit status 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["bounded", "window_size"]


def bounded(what: str, example: str, low: float, high: float, *, integer: bool = False) -> Callable[[str], float]:
    """An argparse type: a number (an integer when ``integer``) between ``low`` and ``high``.

    >>> bounded("port", "a port number", 0, 65535, integer=True)("8765")
    8765
    """
    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {example}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"the {what} must be between {low:g} and {high:g}")
        return value
    return parse


def window_size(min_width: int, min_height: int, most: int = 8192) -> Callable[[str], tuple[int, int]]:
    """An argparse type: a picture size such as ``1280x720``, each side within bounds.

    >>> window_size(320, 240)("1280x720")
    (1280, 720)
    """
    def parse(text: str) -> tuple[int, int]:
        try:
            width, height = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1280x720") from None
        if not (min_width <= width <= most and min_height <= height <= most):
            raise argparse.ArgumentTypeError(f"the width must be {min_width}-{most} and the height "
                                             f"{min_height}-{most} pixels")
        return width, height
    return parse
