"""The local metric frame: a projected CRS shifted to an origin at the area centre.

Local coordinates are metres: x east, y north (the projected CRS's own grid axes, no
rotation), z up, all relative to ``origin``. Conversions to and from WGS84 go through
pyproj, so they are exact to the projection's own accuracy (well under a millimetre).

>>> frame = LocalFrame("EPSG:3067", 385_000.0, 6_672_000.0, 0.0)
>>> lon, lat, _ = frame.to_wgs84(0.0, 0.0)
>>> round(lon, 4), round(lat, 4)
(24.9275, 60.1687)
>>> [round(v, 3) for v in frame.from_wgs84(lon, lat)]
[0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as _PyprojCRSError

from world.errors import CrsError

__all__ = ["LocalFrame", "resolve_crs", "utm_crs_for", "geodetic_to_ecef"]

# WGS84 ellipsoid (NIMA TR8350.2, table 3.1).
_A_M = 6_378_137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)

_EPSG_IN_TEXT = re.compile(r"EPSG(?::|/\d+/|::|/)(\d+)\s*$", re.IGNORECASE)


def resolve_crs(text: str) -> tuple[str, bool]:
    """Return ``("EPSG:<code>", is_geographic)`` for the horizontal part of ``text``.

    Accepts ``EPSG:3067``, OGC URNs (``urn:ogc:def:crs:EPSG::7415``) and OGC URLs
    (``https://www.opengis.net/def/crs/EPSG/0/7415``). A compound CRS (e.g. RD New +
    NAP, EPSG:7415) resolves to its horizontal component.

    >>> resolve_crs("https://www.opengis.net/def/crs/EPSG/0/7415")
    ('EPSG:28992', False)
    >>> resolve_crs("EPSG:4326")
    ('EPSG:4326', True)
    """
    candidate = text.strip()
    match = _EPSG_IN_TEXT.search(candidate)
    if match:
        candidate = f"EPSG:{int(match.group(1))}"
    try:
        crs = CRS.from_user_input(candidate)
    except (_PyprojCRSError, ValueError, TypeError) as exc:
        raise CrsError(f"the coordinate reference system {text!r} cannot be resolved.") from exc
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    epsg = crs.to_epsg()
    if epsg is None:
        raise CrsError(f"the coordinate reference system {text!r} has no EPSG code.")
    if not (crs.is_projected or crs.is_geographic):
        raise CrsError(f"EPSG:{epsg} is neither a projected nor a geographic CRS.")
    return f"EPSG:{epsg}", crs.is_geographic


def utm_crs_for(lon_deg: float, lat_deg: float) -> str:
    """The WGS84 / UTM zone CRS that contains a point (EPSG:326zz north, 327zz south).

    >>> utm_crs_for(24.94, 60.17)
    'EPSG:32635'
    """
    zone = min(60, max(1, math.floor((lon_deg + 180.0) / 6.0) + 1))
    return f"EPSG:{(32600 if lat_deg >= 0 else 32700) + zone}"


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def geodetic_to_ecef(lon_deg: np.ndarray | float, lat_deg: np.ndarray | float,
                     height_m: np.ndarray | float) -> np.ndarray:
    """WGS84 geodetic coordinates to Earth-centred, Earth-fixed metres (EPSG:4978).

    Closed form from NIMA TR8350.2, eq. 4-14. Returns an array of shape ``(..., 3)``.

    >>> [round(v) for v in geodetic_to_ecef(0.0, 0.0, 0.0)]
    [6378137, 0, 0]
    """
    lon = np.radians(lon_deg)
    lat = np.radians(lat_deg)
    n_m = _A_M / np.sqrt(1.0 - _E2 * np.sin(lat) ** 2)
    x = (n_m + height_m) * np.cos(lat) * np.cos(lon)
    y = (n_m + height_m) * np.cos(lat) * np.sin(lon)
    z = (n_m * (1.0 - _E2) + height_m) * np.sin(lat)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """A projected CRS (``"EPSG:<code>"``) and the origin of the local frame in it.

    ``origin_z_m`` is the elevation (in the source's vertical datum, treated as height
    above the ellipsoid for the globe placement) that local z = 0 stands for.
    """

    crs: str
    origin_x_m: float
    origin_y_m: float
    origin_z_m: float = 0.0

    def to_wgs84(self, x_m: float, y_m: float, z_m: float = 0.0) -> tuple[float, float, float]:
        """Local metres to (longitude°, latitude°, height m)."""
        lon, lat = _transformer(self.crs, "EPSG:4326").transform(
            self.origin_x_m + x_m, self.origin_y_m + y_m)
        return float(lon), float(lat), float(self.origin_z_m + z_m)

    def from_wgs84(self, lon_deg: float, lat_deg: float,
                   height_m: float = 0.0) -> tuple[float, float, float]:
        """(Longitude°, latitude°, height m) to local metres."""
        x, y = _transformer("EPSG:4326", self.crs).transform(lon_deg, lat_deg)
        return float(x - self.origin_x_m), float(y - self.origin_y_m), float(height_m - self.origin_z_m)

    def local_to_wgs84_array(self, xy_m: np.ndarray) -> np.ndarray:
        """Vectorised: an ``(n, 2)`` array of local metres to ``(n, 2)`` lon/lat degrees."""
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        lon, lat = _transformer(self.crs, "EPSG:4326").transform(
            xy[:, 0] + self.origin_x_m, xy[:, 1] + self.origin_y_m)
        return np.column_stack([lon, lat])

    @property
    def origin_lonlat(self) -> tuple[float, float]:
        lon, lat, _ = self.to_wgs84(0.0, 0.0)
        return lon, lat

    def ecef_matrix(self) -> list[float]:
        """A 4×4 column-major matrix taking local metres to ECEF (3D Tiles root ``transform``).

        Columns are the ECEF images of one local metre east and north (central
        differences over ±1 m, so meridian convergence and the projection's scale factor
        are included) and the ellipsoid normal for up; the translation is the origin.
        """
        step_m = 1.0
        points = np.array([[step_m, 0.0], [-step_m, 0.0], [0.0, step_m], [0.0, -step_m], [0.0, 0.0]])
        lonlat = self.local_to_wgs84_array(points)
        ecef = geodetic_to_ecef(lonlat[:, 0], lonlat[:, 1], np.full(5, self.origin_z_m))
        east = (ecef[0] - ecef[1]) / (2 * step_m)
        north = (ecef[2] - ecef[3]) / (2 * step_m)
        lon, lat = np.radians(lonlat[4])
        up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
        origin = ecef[4]
        columns = [*east, 0.0, *north, 0.0, *up, 0.0, *origin, 1.0]
        return [float(v) for v in columns]
