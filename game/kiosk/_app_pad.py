"""The on-screen walking pad: four big arrows for a touch screen with no keyboard.

Holding an arrow walks (or turns) for as long as the finger stays on it; the pad shows
in walk mode on the explore screen only.
"""

from __future__ import annotations

from typing import Any

from direct.gui import DirectGuiGlobals as DGG
from direct.gui.DirectButton import DirectButton
from panda3d.core import NodePath, TextNode

__all__ = ["WalkPad"]

#: Arrow -> (the key it stands for, its glyph, its offset in the pad in button widths).
_ARROWS = {
    "arrow_up": ("▲", (0.0, 1.0)), "arrow_down": ("▼", (0.0, -1.0)),
    "arrow_left": ("◀", (-1.0, 0.0)), "arrow_right": ("▶", (1.0, 0.0)),
}


class WalkPad:
    """Four arrow buttons under ``parent`` (aspect2d) writing into ``held`` while pressed."""

    def __init__(self, parent: NodePath, font: Any, held: dict[str, float], *, touched: Any) -> None:
        self.np = parent.attach_new_node("walk-pad")
        self._held = held
        self._touched = touched
        size = 0.067  # half a button: 48 px at 720p
        for key, (glyph, (dx, dy)) in _ARROWS.items():
            button = DirectButton(parent=self.np, text=glyph, text_font=font, text_scale=0.055,
                                  text_fg=(0.1, 0.12, 0.16, 1), text_align=TextNode.A_center,
                                  frameColor=(1, 1, 1, 0.82), frameSize=(-size, size, -size, size),
                                  relief=DGG.FLAT, pos=(dx * size * 2.25, 0, dy * size * 2.25),
                                  pressEffect=1)
            button.bind(DGG.B1PRESS, self._press, [key])
            button.bind(DGG.B1RELEASE, self._release, [key])

    def _press(self, key: str, _event: Any = None) -> None:
        self._held[key] = 1.0
        self._touched()

    def _release(self, key: str, _event: Any = None) -> None:
        self._held.pop(key, None)

    def place(self, x: float, z: float) -> None:
        self.np.set_pos(x, 0, z)

    def show(self, visible: bool) -> None:
        if visible:
            self.np.show()
        else:
            self.np.hide()
            self._held.clear()
