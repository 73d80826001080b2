"""The kiosk's 2D interface: draws a :class:`~game.kiosk.view.HudView` with Panda3D.

Pure drawing: the session composes the view (texts already translated and numbers
formatted), the app projects the callout's 3D anchor to window pixels and passes the
clock; the HUD draws and hands every pressed button's :class:`~game.kiosk.view.Action`
to ``on_action``. It holds no session state.

The HUD is split into parts (top bar, palette, KPI cards, toast…); :meth:`Hud.update`
compares each part's slice of the view (and the theme: window size, large text, high
contrast) with the one it last drew and redraws only the parts that changed, so the
app may call it every frame. Animation (the busy spinner, the attract screen's pulse)
follows ``now``, in seconds, with no redraw.

Coordinates are window pixels, origin top-left, y down, designed at 1280x720 and
scaled with the window height. ``parent`` must be under a PGTop (``app.aspect2d`` or
``app.pixel2d``) so that buttons get the pointer; whatever its scale, the HUD maps
its own pixels onto the screen from ``size_px``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from panda3d.core import NodePath, TextFont, Texture, TransparencyAttrib

from game.kiosk._hud_canvas import Canvas, Fonts
from game.kiosk._hud_explore import (
    ExploreLayout,
    draw_hint,
    draw_overlays,
    draw_palette,
    draw_tools,
    explore_layout,
    topbar_height,
)
from game.kiosk._hud_panels import (
    draw_budget,
    draw_busy,
    draw_callout,
    draw_countdown,
    draw_kpis,
    draw_toast,
    draw_topbar,
    place_callout,
)
from game.kiosk._hud_screens import draw_screen
from game.kiosk._hud_theme import theme_for
from game.kiosk.view import Action, Callout, HudView

__all__ = ["Hud"]

#: The parts in drawing order: later ones lie on top (and win a press).
_PARTS = ("screen", "topbar", "overlays", "palette", "tools", "hint", "budget", "kpis", "busy", "callout", "toast",
          "countdown")


@dataclass(slots=True)
class _Part:
    canvas: Canvas
    key: Any = None  # what the part was last drawn from; None: hidden


class Hud:
    """The kiosk's 2D interface (module docstring).

    ``callout_xy`` in :meth:`update` is the callout anchor projected to window pixels
    (origin top-left, y down), or None to hide the callout (anchor off screen).
    """

    def __init__(self, parent: NodePath, *, font: TextFont | None, bold_font: TextFont | None,
                 on_action: Callable[[Action], None], icon: Callable[[str], Texture | None] | None = None,
                 size_px: tuple[int, int]) -> None:
        self._parent = parent
        self._root = parent.attach_new_node("hud")
        self._root.set_transparency(TransparencyAttrib.M_alpha)
        self._root.set_bin("unsorted", 0)  # drawn in scene-graph order: later parts on top
        self._root.set_depth_test(False)
        self._root.set_depth_write(False)
        self._fonts = Fonts(font, bold_font if bold_font is not None else font)
        self._on_action = on_action
        self._size = size_px
        theme = theme_for(size_px, large_text=False, high_contrast=False)
        self._parts = {name: _Part(Canvas(self._root.attach_new_node(name), theme, self._fonts, self._pressed, icon))
                       for name in _PARTS}
        self._view: HudView | None = None
        self._callout_xy: tuple[float, float] | None = None
        self._now = 0.0
        self._layout: tuple[Any, ExploreLayout] | None = None  # the explore layout and what it was made from
        self._place_root()

    # ----- public API ------------------------------------------------------------------------------

    def update(self, view: HudView, *, callout_xy: tuple[float, float] | None = None, now: float = 0.0) -> None:
        """Draw ``view``: redraw the parts whose slice changed, move the callout to
        ``callout_xy``, advance animations to ``now`` (seconds)."""
        self._view, self._callout_xy, self._now = view, callout_xy, now
        self._place_root()
        theme = theme_for(self._size, large_text=view.large_text, high_contrast=view.high_contrast)
        for name, (key, draw) in self._plan(view, theme).items():
            part = self._parts[name]
            if key == part.key:
                continue
            part.canvas.clear()
            part.canvas.theme = theme
            part.key = key
            if key is not None:
                draw(part.canvas)
        callout = self._parts["callout"]
        if callout.key is not None:
            place_callout(callout.canvas, callout_xy)
        for part in self._parts.values():
            for animate in part.canvas.animated:
                animate(now)

    def resize(self, size_px: tuple[int, int]) -> None:
        """The window is now ``size_px``: lay everything out again."""
        self._size = size_px
        self._place_root()
        if self._view is not None:
            self.update(self._view, callout_xy=self._callout_xy, now=self._now)

    def destroy(self) -> None:
        for part in self._parts.values():
            part.canvas.clear()
            part.key = None
        self._root.remove_node()

    def texts(self) -> list[str]:
        """Every visible text, whole (before any cut with an ellipsis), in drawing order."""
        out: list[str] = []
        for name, part in self._parts.items():
            if part.key is None or (name == "callout" and self._callout_xy is None):
                continue
            out.extend(part.canvas.texts)
        return out

    def press(self, target: str | Action) -> Action:
        """Press the visible, enabled button whose label is ``target`` (else whose action
        name is ``target``, or whose action equals it); the topmost wins, and while the
        idle countdown shows only its buttons can be pressed. Calls ``on_action`` and
        returns the action; LookupError when there is none."""
        shown = [name for name in reversed(_PARTS) if self._parts[name].key is not None]
        if "countdown" in shown:  # a modal: what lies under it cannot be pressed
            shown = ["countdown"]
        candidates = [p for name in shown for p in self._parts[name].canvas.buttons if p.enabled]
        if isinstance(target, Action):
            matches = [p for p in candidates if p.action == target]
        else:
            matches = [p for p in candidates if p.label == target] or \
                      [p for p in candidates if p.action.name == target]
        if not matches:
            names = sorted({p.label or p.action.name for p in candidates})
            raise LookupError(f"no visible button {target!r} to press; visible: {', '.join(names)}")
        self._pressed(matches[0].action)
        return matches[0].action

    # ----- internals -------------------------------------------------------------------------------

    def _pressed(self, action: Action) -> None:
        self._on_action(action)

    def _place_root(self) -> None:
        """Map window pixels (x right, z = -y) onto render2d's -1..1, whatever the
        parent's own transform."""
        width, height = self._size
        top = self._parent.get_top()
        self._root.set_pos(top, -1.0, 0.0, 1.0)
        self._root.set_scale(top, 2.0 / width, 1.0, 2.0 / height)

    def _plan(self, view: HudView, theme: Any) -> dict[str, tuple[Any, Callable[[Canvas], None]]]:
        """Per part: the key it is drawn from (None: hidden) and how to draw it."""
        explore = view.screen == "explore"
        layout = None
        if explore:
            layout_key = (theme, view.tools, bool(view.palette), bool(view.hint))
            if self._layout is None or self._layout[0] != layout_key:
                scratch = Canvas(NodePath("scratch"), theme, self._fonts, self._pressed)
                self._layout = (layout_key, explore_layout(scratch, view))
            layout = self._layout[1]
        bar = view.screen != "attract"
        languages = () if view.screen == "language" else view.languages  # that screen shows them big
        toast_top = (topbar_height(theme) if bar else 0.0) + theme.px(12.0)
        still_here = tuple(b for b in view.buttons if b.action.name == "still_here")

        on = cast(ExploreLayout, layout)  # for parts drawn only on explore; busy and toast take None too

        def when(condition: bool, *key: Any) -> Any:
            return (theme, *key) if condition else None

        return {
            "screen": (when(not explore, view.screen, view.title, view.heading, view.body, view.buttons,
                            view.languages, view.questions, view.proposals, view.text_input),
                       lambda c: draw_screen(c, view)),
            "topbar": (when(bar, view.title, view.phase, view.status, languages),
                       lambda c: draw_topbar(c, view, languages)),
            "overlays": (when(explore and bool(view.overlays or view.legend), layout, view.overlays, view.legend),
                         lambda c: draw_overlays(c, view, on)),
            "palette": (when(explore and bool(view.palette), layout, view.palette),
                        lambda c: draw_palette(c, view, on)),
            "tools": (when(explore and bool(view.tools), layout, view.tools), lambda c: draw_tools(c, view, on)),
            "hint": (when(explore and bool(view.hint), layout, view.hint), lambda c: draw_hint(c, view, on)),
            "budget": (when(explore and view.budget is not None, layout, view.budget),
                       lambda c: draw_budget(c, view, on)),
            "kpis": (when(explore and bool(view.kpis), layout, view.kpis, view.budget is not None),
                     lambda c: draw_kpis(c, view, on)),
            "busy": (when(bool(view.busy), layout, view.busy, view.budget is not None),
                     lambda c: draw_busy(c, view, layout)),
            "callout": (when(explore and view.callout is not None, view.callout),
                        lambda c: draw_callout(c, cast(Callout, view.callout))),
            "toast": (when(view.toast is not None, view.toast, toast_top, layout),
                      lambda c: draw_toast(c, view, toast_top, layout)),
            "countdown": (when(bool(view.countdown) and view.screen != "attract", view.countdown, still_here),
                          lambda c: draw_countdown(c, view)),
        }
