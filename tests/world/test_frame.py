"""The local frame: known answers from the projections' definitions, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from world.errors import CrsError
from world.frame import LocalFrame, geodetic_to_ecef, resolve_crs, utm_crs_for

_GEOD = Geod(ellps="WGS84")
# WGS84 semi-minor axis, NIMA TR8350.2 table 3.1.
_WGS84_B_M = 6_356_752.3142


def test_transverse_mercator_definition() -> None:
    """ETRS-TM35FIN: central meridian 27°E, false easting 500 000 m, equator at northing 0."""
    frame = LocalFrame("EPSG:3067", 0.0, 0.0)
    x, y, _ = frame.from_wgs84(27.0, 0.0)
    assert x == pytest.approx(500_000.0, abs=1e-6)
    assert y == pytest.approx(0.0, abs=1e-6)
    x, _, _ = frame.from_wgs84(27.0, 60.17)
    assert x == pytest.approx(500_000.0, abs=1e-6)


def test_ecef_known_answers() -> None:
    assert geodetic_to_ecef(0.0, 0.0, 0.0) == pytest.approx([6_378_137.0, 0.0, 0.0], abs=1e-6)
    assert geodetic_to_ecef(0.0, 90.0, 0.0) == pytest.approx([0.0, 0.0, _WGS84_B_M], abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(24.90, 24.98), lat=st.floats(60.14, 60.20), crs=st.sampled_from(["EPSG:3067", "EPSG:32635"]))
def test_wgs84_local_round_trip_within_1_cm(lon: float, lat: float, crs: str) -> None:
    frame = LocalFrame(crs, *LocalFrame(crs, 0, 0).from_wgs84(24.944, 60.171)[:2])
    x, y, z = frame.from_wgs84(lon, lat, 12.0)
    lon2, lat2, h2 = frame.to_wgs84(x, y, z)
    _, _, distance_m = _GEOD.inv(lon, lat, lon2, lat2)
    assert distance_m < 0.01
    assert h2 == pytest.approx(12.0)


def test_ecef_matrix_places_local_points_on_the_globe() -> None:
    frame = LocalFrame("EPSG:3067", 385_800.0, 6_672_300.0, 5.0)
    matrix = np.array(frame.ecef_matrix()).reshape(4, 4).T  # column-major
    lon0, lat0 = frame.origin_lonlat
    assert matrix[:3, 3] == pytest.approx(geodetic_to_ecef(lon0, lat0, 5.0), abs=1e-6)
    for local in ([200.0, 0.0, 0.0], [0.0, -150.0, 0.0], [120.0, 90.0, 0.0]):
        ecef = matrix @ np.array([*local, 1.0])
        lon, lat, _ = frame.to_wgs84(*local)
        direct = geodetic_to_ecef(lon, lat, 5.0)
        # The plane of the 3D Tiles transform leaves the ellipsoid by d²/2R (3 mm at 200 m).
        assert np.linalg.norm(ecef[:3] - direct) < 0.01


def test_resolve_crs_forms() -> None:
    assert resolve_crs("EPSG:3067") == ("EPSG:3067", False)
    assert resolve_crs("urn:ogc:def:crs:EPSG::7415") == ("EPSG:28992", False)
    assert resolve_crs("http://www.opengis.net/def/crs/EPSG/0/4326") == ("EPSG:4326", True)
    with pytest.raises(CrsError, match="cannot be resolved"):
        resolve_crs("EPSG:999999")
    with pytest.raises(CrsError):
        resolve_crs("not a crs at all")


def test_utm_zones() -> None:
    assert utm_crs_for(24.94, 60.17) == "EPSG:32635"
    assert utm_crs_for(4.36, 52.01) == "EPSG:32631"
    assert utm_crs_for(-70.6, -33.4) == "EPSG:32719"
