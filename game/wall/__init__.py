"""The facilitator's wall and the planner's review: a pure board model (no graphics
here: :mod:`game.wall.board`, :mod:`game.wall.basemap`, :mod:`game.wall.consensus`,
:mod:`game.wall.replay`, :mod:`game.wall.colours`) and the windows that draw it."""

__all__: list[str] = []
