"""The wall's colours: who proposed what, and the basemap under it.

Kiosks get the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), whose
colours stay apart for people with any common colour-vision deficiency; its black is
left out because the wall's background is dark. Proposals from phones are light grey,
so a kiosk's colour always means "made at that table". Basemap fills are dim and
desaturated so the proposals and the consensus heat map read on a projector.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["BACKGROUND", "KIOSK_COLOURS", "LAYER_COLOURS", "PHONES_COLOUR", "colour_for", "hex_colour"]

RGB = tuple[int, int, int]

#: Okabe–Ito without black: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple.
KIOSK_COLOURS: tuple[RGB, ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
)
#: Proposals sent from phones.
PHONES_COLOUR: RGB = (220, 220, 220)
#: The wall's background (behind the map and the panels).
BACKGROUND: RGB = (18, 20, 24)
#: Basemap fills per layer (see :data:`game.wall.basemap.LAYERS`), on :data:`BACKGROUND`.
LAYER_COLOURS: dict[str, RGB] = {
    "water": (28, 58, 92),
    "green": (36, 72, 48),
    "road": (62, 64, 70),
    "building": (104, 100, 96),
}

_NUMBER = re.compile(r"(\d+)$")


def colour_for(kiosk: str | None) -> RGB:
    """The colour of kiosk ``kiosk`` ("k1" → the first palette colour, wrapping after
    seven); :data:`PHONES_COLOUR` for None (a phone's proposal).

    >>> colour_for("k1"), colour_for("k8") == colour_for("k1"), colour_for(None)
    ((230, 159, 0), True, (220, 220, 220))
    """
    if not kiosk:
        return PHONES_COLOUR
    match = _NUMBER.search(kiosk)
    # Ids without a number still get a stable colour (no hash(): it changes per process).
    index = int(match.group(1)) - 1 if match else sum(kiosk.encode("utf-8"))
    return KIOSK_COLOURS[index % len(KIOSK_COLOURS)]


def hex_colour(rgb: Sequence[int]) -> str:
    """``rgb`` (0–255 channels) as CSS hex.

    >>> hex_colour((230, 159, 0))
    '#e69f00'
    """
    r, g, b = (max(0, min(255, int(c))) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
