"""Field checks behind :func:`multiplayer.protocol.parse`: one validator per client message type.

Each validator reads the fields its type names from the decoded JSON object, refuses the
first bad one with a sentence that names it ("vote: 'choice' must be an option id or a
score from 1 to 5."), and returns the normalised body: unknown fields dropped, the join
code upper-cased, titles stripped, ``cast_at`` an aware UTC datetime, numbers that must be
finite checked so that every body can be written back as strict JSON. The schema in
``docs/protocol.schema.json`` describes the same rules; where JSON Schema cannot say a
rule (a closed polygon ring, a lone surrogate, a real calendar date) these checks are the
stricter of the two, never the looser.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

__all__ = ["MAX_DATA_BYTES", "MAX_DEPTH", "MAX_INTERVENTIONS", "MAX_KPIS", "MAX_SAFE_INT", "PHASES", "ROLES",
           "VALIDATORS", "FieldError", "format_utc"]

ROLES = ("facilitator", "kiosk", "participant", "wall")
PHASES = ("lobby", "explore", "propose", "vote", "reveal", "closed")

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
CODE_RE = re.compile(r"[A-Za-z0-9]{4,16}")
LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
EVENT_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,40}")
KPI_RE = re.compile(r"[a-z0-9_]{1,64}")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t, \n and \r

#: Limits shared with the schema and the documentation.
MAX_DEPTH = 8              # nesting of free-form objects (``data``, ``params``), the object itself included
MAX_DATA_BYTES = 4 * 1024  # an event's ``data``, as compact UTF-8 JSON
MAX_SAFE_INT = 2**53 - 1   # integers every JSON reader (JavaScript included) holds exactly
MAX_COORD_M = 1e7          # local coordinates stay within 10,000 km of the origin
MAX_INTERVENTIONS = 50
MAX_KPIS = 50

ID_MUST = "must be an id of 1 to 64 characters of A-Z, a-z, 0-9, _ or -"
TIME_MUST = 'must be an ISO 8601 time with a timezone, like "2026-11-21T10:00:00.000Z"'
POSITION_MUST = "must be a position [x, y] or [x, y, z] of finite numbers of metres, each within ±10,000 km"


class FieldError(ValueError):
    """One field of a message is wrong; the message is the sentence for the person."""


class _Bad(Exception):
    """A check failed; ``path`` and ``must`` override the field's name and sentence."""

    def __init__(self, must: str | None = None, path: str | None = None) -> None:
        super().__init__(must)
        self.must = must
        self.path = path


_Check = Callable[[Any], Any]


def format_utc(when: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with microseconds and a ``Z`` (parses back exactly).

    >>> from datetime import timedelta, timezone
    >>> format_utc(datetime(2026, 11, 21, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    '2026-11-21T10:00:00.000000Z'
    """
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _is_int(value: Any) -> bool:
    """A JSON whole number: an int, or a float with no fraction (JSON Schema's "integer"); never a bool."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _whole(low: int, high: int) -> _Check:
    def check(value: Any) -> int:
        if _is_int(value) and low <= value <= high:
            return int(value)
        raise _Bad
    return check


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad
    try:
        number = float(value)
    except OverflowError:
        raise _Bad from None
    if not math.isfinite(number):
        raise _Bad
    return number


def _pattern(regex: re.Pattern[str], *, upper: bool = False) -> _Check:
    def check(value: Any) -> str:
        if isinstance(value, str) and regex.fullmatch(value):
            return value.upper() if upper else value
        raise _Bad
    return check


def _text(low: int, high: int, *, strip: bool, one_line: bool) -> _Check:
    """Free text of ``low``..``high`` characters (counted after stripping when ``strip``)."""
    control = _CONTROL if one_line else _CONTROL_BUT_LINES

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Bad
        if _SURROGATE.search(value):
            raise _Bad("must be Unicode text, without lone UTF-16 surrogates")
        text = value.strip() if strip else value
        if not low <= len(text) <= high or control.search(value):
            raise _Bad
        return text
    return check


def _enum(choices: tuple[str, ...]) -> _Check:
    def check(value: Any) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise _Bad
    return check


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or not TIME_RE.fullmatch(value):
        raise _Bad
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Bad from None


def _choice(value: Any) -> str | int:
    if isinstance(value, str) and ID_RE.fullmatch(value):
        return value
    if _is_int(value) and 1 <= value <= 5:
        return int(value)
    raise _Bad


def _free_object(path: str, max_bytes: int | None = None) -> _Check:
    """Any JSON object a client may attach (an event's data, an intervention's params): nested at
    most :data:`MAX_DEPTH` deep, with finite numbers, safe integers and real Unicode strings."""
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Bad("must be a JSON object" + (f" of at most {max_bytes} bytes" if max_bytes else ""), path)
        stack: list[tuple[Any, str, int]] = [(value, path, 1)]
        while stack:
            item, where, depth = stack.pop()
            if isinstance(item, dict | list):
                if depth > MAX_DEPTH:
                    raise _Bad(f"is nested more than {MAX_DEPTH} deep", where)
                pairs = item.items() if isinstance(item, dict) else enumerate(item)
                for key, child in pairs:
                    if isinstance(key, str) and _SURROGATE.search(key):
                        raise _Bad("has a key with a lone UTF-16 surrogate, which is not text", where)
                    stack.append((child, _child_path(where, key), depth + 1))
            elif isinstance(item, str) and _SURROGATE.search(item):
                raise _Bad("must be Unicode text, without lone UTF-16 surrogates", where)
            elif isinstance(item, float) and not math.isfinite(item):
                raise _Bad("must be a finite number", where)
            elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_SAFE_INT:
                raise _Bad("must be a whole number within ±(2^53 - 1)", where)
        if max_bytes is not None:
            size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            if size > max_bytes:
                raise _Bad(f"must be at most {max_bytes} bytes as JSON, not {size}", path)
        return value
    return check


def _child_path(where: str, key: str | int) -> str:
    """The path of a member for an error sentence; keys that are not plain names stay out of it
    (they may be long, or hold characters that cannot be sent back)."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{where}[…]"


def _position(value: Any, path: str) -> list[float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise _Bad(POSITION_MUST, path)
    try:
        coords = [_finite(v) for v in value]
    except _Bad:
        raise _Bad(POSITION_MUST, path) from None
    if any(abs(c) > MAX_COORD_M for c in coords):
        raise _Bad(POSITION_MUST, path)
    return coords


def _positions(value: Any, path: str, least: int, must: str) -> list[list[float]]:
    if not isinstance(value, list) or len(value) < least:
        raise _Bad(must, path)
    return [_position(v, f"{path}[{i}]") for i, v in enumerate(value)]


def _geometry(value: Any, path: str) -> dict[str, Any]:
    """A GeoJSON-style Point, LineString or Polygon in local metres (rings closed, as GeoJSON says)."""
    if not isinstance(value, dict) or value.get("type") not in ("Point", "LineString", "Polygon"):
        raise _Bad("must be a GeoJSON Point, LineString or Polygon in local metres", path)
    kind, coords, where = value["type"], value.get("coordinates"), f"{path}.coordinates"
    if kind == "Point":
        return {"type": kind, "coordinates": _position(coords, where)}
    if kind == "LineString":
        return {"type": kind, "coordinates": _positions(coords, where, 2, "must be a list of at least 2 positions")}
    ring_must = "must be a closed ring: at least 4 positions, the last equal to the first"
    if not isinstance(coords, list) or not coords:
        raise _Bad("must be a list of one or more closed rings", where)
    rings = [_positions(ring, f"{where}[{i}]", 4, ring_must) for i, ring in enumerate(coords)]
    for i, ring in enumerate(rings):
        if ring[0] != ring[-1]:
            raise _Bad(ring_must, f"{where}[{i}]")
    return {"type": kind, "coordinates": rings}


def _interventions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_INTERVENTIONS:
        raise _Bad(f"must be a list of at most {MAX_INTERVENTIONS} interventions")
    out = []
    for i, item in enumerate(value):
        where = f"interventions[{i}]"
        if not isinstance(item, dict):
            raise _Bad("must be an object with 'catalog', 'geometry' and optional 'params'", where)
        catalog = item.get("catalog")
        if not isinstance(catalog, str) or not ID_RE.fullmatch(catalog):
            raise _Bad(f"{ID_MUST} from the scenario's catalogue", f"{where}.catalog")
        params = item.get("params")
        out.append({"catalog": catalog, "geometry": _geometry(item.get("geometry"), f"{where}.geometry"),
                    "params": {} if params is None else _free_object(f"{where}.params")(params)})
    return out


def _kpis(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or len(value) > MAX_KPIS:
        raise _Bad(f"must be an object of at most {MAX_KPIS} KPI deltas, name to number")
    out = {}
    for name, number in value.items():
        if not KPI_RE.fullmatch(name):
            raise _Bad("must have KPI names of 1 to 64 characters of a-z, 0-9 and _")
        try:
            out[name] = _finite(number)
        except _Bad:
            raise _Bad("must be a finite number", f"kpis.{name}") from None
    return out


class _Reader:
    """Reads the named fields of one message, refusing a bad one in a sentence that names it."""

    def __init__(self, type_: str, raw: Mapping[str, Any]) -> None:
        self.type = type_
        self.raw = raw
        self.body: dict[str, Any] = {}

    def refuse(self, name: str, must: str) -> NoReturn:
        raise FieldError(f"{self.type}: '{name}' {must}.")

    def take(self, name: str, check: _Check, must: str, *, required: bool = False, default: Any = None) -> None:
        """Check field ``name`` into the body; absent or null means ``default`` (left out when None)."""
        value = self.raw.get(name)
        if value is None:
            if required:
                self.refuse(name, must)
            if default is not None:
                self.body[name] = default
            return
        try:
            self.body[name] = check(value)
        except _Bad as bad:
            self.refuse(bad.path or name, bad.must or must)

    def offline(self) -> None:
        """The fields of a message a kiosk may queue while offline: its session and when it was cast."""
        self.take("session", _pattern(ID_RE), ID_MUST)
        self.take("cast_at", _time, TIME_MUST)


def _hello(r: _Reader) -> None:
    r.take("role", _enum(ROLES), "must be one of facilitator, kiosk, participant or wall", required=True)
    r.take("workshop", _pattern(CODE_RE, upper=True), "must be a join code of 4 to 16 letters and digits",
           required=True)
    secret = _text(16, 128, strip=False, one_line=True)
    r.take("token", secret, "must be a token of 16 to 128 characters")
    r.take("resume", secret, "must be the participant token of 16 to 128 characters this server gave")
    r.take("lang", _pattern(LANG_RE), 'must be a language tag like "fi" or "pt-BR"')


def _vote(r: _Reader) -> None:
    r.take("question", _pattern(ID_RE), ID_MUST, required=True)
    r.take("choice", _choice, "must be an option id or a score from 1 to 5", required=True)
    r.offline()


def _propose(r: _Reader) -> None:
    r.take("title", _text(1, 120, strip=True, one_line=True), "must be 1 to 120 characters on one line",
           required=True)
    r.take("description", _text(0, 2000, strip=False, one_line=False),
           "must be text of at most 2000 characters", default="")
    r.take("interventions", _interventions, "must be a list of interventions", default=[])
    r.take("kpis", _kpis, "must be an object of KPI deltas", default={})
    r.take("scene_hash", _text(0, 128, strip=False, one_line=True), "must be a string of at most 128 characters")
    r.offline()


def _comment(r: _Reader) -> None:
    r.take("target", _pattern(ID_RE), f"{ID_MUST} (a proposal or a question)", required=True)
    r.take("text", _text(1, 1000, strip=True, one_line=False), "must be 1 to 1000 characters of text",
           required=True)
    r.offline()


def _event(r: _Reader) -> None:
    r.take("name", _pattern(EVENT_NAME_RE), 'must be a lower-case name like "session_start" (a-z, 0-9, _)',
           required=True)
    r.take("data", _free_object("data", MAX_DATA_BYTES), f"must be a JSON object of at most {MAX_DATA_BYTES} bytes",
           default={})
    r.offline()


def _phase(r: _Reader) -> None:
    r.take("to", _enum(PHASES), "must be one of " + ", ".join(PHASES[:-1]) + f" or {PHASES[-1]}", required=True)


def _timer(r: _Reader) -> None:
    if (r.raw.get("seconds") is None) == (r.raw.get("add") is None):
        raise FieldError("timer: send exactly one of 'seconds' and 'add'.")
    r.take("seconds", _whole(0, 86400), "must be a whole number of seconds from 0 to 86400")
    r.take("add", _whole(-86400, 86400), "must be a whole number of seconds from -86400 to 86400")


def _lock(r: _Reader) -> None:
    r.take("locked", _boolean, "must be true or false", default=True)


def _nothing(r: _Reader) -> None:
    """reveal and close carry no fields."""


def _question(r: _Reader) -> None:
    must = "must be a question id or null"
    if "current" not in r.raw:
        r.refuse("current", must)
    r.body["current"] = None
    r.take("current", _pattern(ID_RE), must)


def _add_kiosk(r: _Reader) -> None:
    r.take("name", _text(1, 60, strip=True, one_line=True), "must be 1 to 60 characters on one line", required=True)


def _revoke_kiosk(r: _Reader) -> None:
    r.take("kiosk", _pattern(ID_RE), 'must be a kiosk id like "k1"', required=True)


_FIELDS: dict[str, Callable[[_Reader], None]] = {
    "hello": _hello, "vote": _vote, "propose": _propose, "comment": _comment, "event": _event,
    "phase": _phase, "timer": _timer, "lock": _lock, "reveal": _nothing, "close": _nothing,
    "question": _question, "add_kiosk": _add_kiosk, "revoke_kiosk": _revoke_kiosk,
}


def _validator(fields: Callable[[_Reader], None], type_: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def validate(raw: Mapping[str, Any]) -> dict[str, Any]:
        reader = _Reader(type_, raw)
        fields(reader)
        return reader.body
    return validate


#: client message type -> function from the decoded JSON object to the normalised body (raises FieldError).
VALIDATORS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    type_: _validator(fields, type_) for type_, fields in _FIELDS.items()
}
