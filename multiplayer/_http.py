"""The server's plain HTTP routes, answered during the websocket handshake.

``/`` serves the phone page, ``/healthz`` a JSON health report, ``/qr/<code>.svg`` the QR
code of a workshop's join link; ``/ws`` goes on to the websocket handshake. Everything
here is synchronous and reads no clock; :mod:`multiplayer.server` wires it in.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import segno
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

__all__ = ["STATIC_DIR", "WS_PATH", "join_url", "qr_svg", "respond", "same_origin"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
WS_PATH = "/ws"
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/index.html": ("index.html", "text/html; charset=utf-8"),
           "/phone.js": ("phone.js", "text/javascript; charset=utf-8"),
           "/phone.css": ("phone.css", "text/css; charset=utf-8")}
_QR_PATH = re.compile(r"^/qr/([A-Za-z0-9]{4,16})\.svg$")
# The page loads only its own files and talks only to its own origin.
_CSP = ("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}


def join_url(base: str, code: str) -> str:
    """The link a phone opens to join workshop ``code`` (the code is not a secret; no token
    ever goes into a URL).

    >>> join_url("http://192.168.1.20:8765", "ab12cd")
    'http://192.168.1.20:8765/?w=AB12CD'
    """
    return f"{base.rstrip('/')}/?w={code.upper()}"


def qr_svg(text: str, *, scale: int = 8) -> bytes:
    """``text`` as a QR code in SVG (error correction M, a four-module quiet zone)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, border=4, dark="#000", light="#fff",
                                     title="Join the workshop")
    return out.getvalue()


def same_origin(headers: Headers, extra_origins: tuple[str, ...] = ()) -> bool:
    """Whether a request may open a websocket: non-browser clients send no ``Origin``;
    a browser's must name the host it loaded the page from, or one listed in ``extra_origins``."""
    origin = headers.get("Origin")
    if origin is None:
        return True
    if origin in extra_origins:
        return True
    host = headers.get("Host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


@cache
def _static(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _response(status: int, body: bytes, content_type: str, extra: Mapping[str, str] | None = None) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    for key, value in (extra or {}).items():
        headers[key] = value
    return Response(status, _REASONS.get(status, "Error"), headers, body)


def _text(status: int, sentence: str) -> Response:
    return _response(status, (sentence + "\n").encode(), "text/plain; charset=utf-8")


def respond(request: Request, *, health: Callable[[], Mapping[str, object]], base_url: Callable[[Request], str],
            known_workshop: Callable[[str], bool], extra_origins: tuple[str, ...] = ()) -> Response | None:
    """The HTTP answer for ``request``, or None to go on with the websocket handshake at ``/ws``."""
    path = urlsplit(request.path).path
    if path == WS_PATH:
        if not same_origin(request.headers, extra_origins):
            return _text(403, "This page may not open the workshop connection (its origin is not this server).")
        return None
    if path in _STATIC:
        name, content_type = _STATIC[path]
        try:
            body = _static(name)
        except OSError:
            return _text(404, f"The phone page file {name} is missing from this installation.")
        return _response(200, body, content_type, {"Content-Security-Policy": _CSP})
    if path == "/healthz":
        return _response(200, json.dumps(dict(health())).encode(), "application/json")
    match = _QR_PATH.match(path)
    if match:
        code = match.group(1).upper()
        if not known_workshop(code):
            return _text(404, f"There is no workshop {code} on this server.")
        return _response(200, qr_svg(join_url(base_url(request), code)), "image/svg+xml")
    return _text(404, f"Nothing here: {path}. The phone page is at /, the websocket at {WS_PATH}.")
