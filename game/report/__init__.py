"""The workshop report: one self-contained ``index.html`` with charts and maps, plus the
exports, written by :func:`game.report.build.build_report` (``civictwin report``).

Pure Python: no arcade, pyglet or Panda3D, so a report builds on a server with no display.
"""

from game.report.build import Report, build_report

__all__ = ["Report", "build_report"]
