"""The kiosk's errors: one sentence a person can act on; ``civictwin play`` prints it and
exits with status 1."""

from __future__ import annotations

__all__ = ["KioskError"]


class KioskError(Exception):
    """Something the kiosk cannot start or go on with (a missing font, no OpenGL, a bad script)."""
