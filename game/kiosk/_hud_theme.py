"""The HUD's look: colours, type sizes and spacing for one screen size and setting.

Everything is designed at 1280x720 and scaled with the window height, so 1920x1080
shows the same layout 1.5 times larger. ``large_text`` multiplies type and touch
targets; ``high_contrast`` swaps the white cards and civic blue for black, white and
yellow with thicker outlines.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Colour", "Theme", "rgba", "theme_for"]

Colour = tuple[float, float, float, float]

_DESIGN_HEIGHT_PX = 720.0
_LARGE_TEXT = 1.35


def rgba(hex_colour: str, alpha: float = 1.0) -> Colour:
    """``"#1a7f37"`` -> (r, g, b, a) floats 0..1."""
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255.0, int(h[2:4], 16) / 255.0, int(h[4:6], 16) / 255.0, alpha)


@dataclass(frozen=True, slots=True)
class Theme:
    """Sizes in design pixels (720p) go through :meth:`px`; type sizes through :meth:`pt`."""

    width_px: int
    height_px: int
    large_text: bool
    high_contrast: bool
    # Colours.
    card: Colour
    card_alt: Colour  # tiles and fields inside a card
    ink: Colour  # main text
    muted: Colour  # secondary text
    accent: Colour
    on_accent: Colour  # text on an accent fill
    accent_soft: Colour  # selected tile background
    line: Colour  # hairlines and outlines
    shadow: Colour
    disabled_ink: Colour
    better: Colour
    worse: Colour
    same: Colour
    toast_info: Colour
    toast_success: Colour
    toast_error: Colour
    on_toast: Colour
    scrim: Colour  # the dim layer behind modal cards and the attract screen
    outline_px: float  # outline width of cards and buttons (0: none, shadows instead)

    @property
    def unit(self) -> float:
        """Window pixels per design pixel."""
        return self.height_px / _DESIGN_HEIGHT_PX

    @property
    def text_factor(self) -> float:
        return _LARGE_TEXT if self.large_text else 1.0

    def px(self, design_px: float) -> float:
        return design_px * self.unit

    def pt(self, design_px: float) -> float:
        """A type size in window pixels."""
        return design_px * self.unit * self.text_factor

    @property
    def touch(self) -> float:
        """The height of a touch target: 48 design px, 64 with large text."""
        return self.px(64.0 if self.large_text else 48.0)

    @property
    def margin(self) -> float:
        return self.px(16.0)

    @property
    def gap(self) -> float:
        return self.px(8.0)

    @property
    def radius(self) -> float:
        return self.px(14.0)

    @property
    def outline(self) -> float:
        return self.px(self.outline_px)


def theme_for(size_px: tuple[int, int], *, large_text: bool, high_contrast: bool) -> Theme:
    """The theme of one window size and accessibility setting."""
    width, height = size_px
    if high_contrast:
        return Theme(
            width, height, large_text, True,
            card=rgba("#000000"), card_alt=rgba("#000000"), ink=rgba("#ffffff"), muted=rgba("#ffffff"),
            accent=rgba("#ffe600"), on_accent=rgba("#000000"), accent_soft=rgba("#ffe600"),
            line=rgba("#ffffff"), shadow=(0.0, 0.0, 0.0, 0.0), disabled_ink=rgba("#9a9a9a"),
            better=rgba("#4dff88"), worse=rgba("#ff6b6b"), same=rgba("#ffffff"),
            toast_info=rgba("#000000"), toast_success=rgba("#000000"), toast_error=rgba("#000000"),
            on_toast=rgba("#ffe600"), scrim=(0.0, 0.0, 0.0, 0.82), outline_px=3.0,
        )
    return Theme(
        width, height, large_text, False,
        card=rgba("#ffffff"), card_alt=rgba("#f2f5f8"), ink=rgba("#1b1f24"), muted=rgba("#5b6572"),
        accent=rgba("#0b5cad"), on_accent=rgba("#ffffff"), accent_soft=rgba("#e3eefa"),
        line=rgba("#d0d7de"), shadow=(0.02, 0.06, 0.12, 0.22), disabled_ink=rgba("#9aa3ad"),
        better=rgba("#1a7f37"), worse=rgba("#cf222e"), same=rgba("#6e7781"),
        toast_info=rgba("#24313f"), toast_success=rgba("#1a7f37"), toast_error=rgba("#cf222e"),
        on_toast=rgba("#ffffff"), scrim=(0.03, 0.07, 0.13, 0.55), outline_px=0.0,
    )
