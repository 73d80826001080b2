"""The exceptions `world` raises, one small hierarchy.

Every message names the object at fault and what is wrong with it, as one sentence a
person can act on ("tiles/0_1.glb: accessor 7 points past the end of buffer 0."). The
command line prints ``str(error)`` and exits with status 1; nothing else escapes.
"""

from __future__ import annotations

__all__ = ["WorldError", "SourceError", "GltfError", "CrsError", "PackageError", "CatalogError"]


class WorldError(Exception):
    """Base class of every error raised by `world`."""


class SourceError(WorldError):
    """A source file (OSM, CityJSON, GeoJSON) is missing, unreadable or invalid."""


class CrsError(WorldError):
    """A coordinate reference system is missing or cannot be resolved."""


class GltfError(WorldError):
    """A glTF/GLB file is malformed or uses something the reader does not support."""


class PackageError(WorldError):
    """A city package folder is missing parts or is inconsistent."""


class CatalogError(WorldError):
    """The intervention catalog is malformed, or a placement does not fit its entry."""
