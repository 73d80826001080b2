"""argparse value types and usage checks shared by the ``civictwin`` subcommands: a
bounded number with a sentence when it is not one (argparse turns it into a usage error,
exit status 2), the language check, and how a usage problem is reported."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

__all__ = ["bounded", "lang_problem", "usage_error", "window_size"]

_LANG = re.compile(r"^[a-z]{2}$")


def lang_problem(lang: str) -> str | None:
    """The sentence for a ``--lang`` that is not a two-letter code, or None.

    >>> lang_problem("fi") is None, lang_problem("Finnish")
    (True, "--lang 'Finnish' is not a two-letter language code such as fi.")
    """
    return None if _LANG.match(lang) else f"--lang {lang!r} is not a two-letter language code such as fi."


def usage_error(command: str, problem: str) -> int:
    """Print a usage problem argparse could not see, as argparse does, and return its status 2."""
    print(f"civictwin {command}: error: {problem}", file=sys.stderr)
    return 2


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
