"""The workshop protocol: parse, its refusals, the JSON Schema and the documentation agree.

The examples in docs/protocol.md are the test fixtures: each is checked against the schema
and, for client messages, parsed. Property tests feed parse arbitrary text, bytes, JSON and
message-shaped objects: it returns a Message or raises ProtocolError, nothing else, and
whatever it accepts the schema accepts too.
"""

from __future__ import annotations

import doctest
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import multiplayer._protocol_fields as fields
import multiplayer.protocol as protocol
from multiplayer.protocol import (
    CLIENT_TYPES,
    ERROR_CODES,
    MAX_FRAME_BYTES,
    Message,
    ProtocolError,
    ack,
    client_message,
    dump,
    error,
    new_token,
    parse,
    state_push,
    to_frame,
)
from tests.conftest import ROOT
from tests.multiplayer.schema import check_schema, defs, validate

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
EXAMPLES = [(kind, json.loads(text)) for kind, text in
            re.findall(r"<!-- example: (\w+) -->\s*```json\n(.*?)```", DOC, flags=re.S)]
SERVER_KINDS = ("ack", "error", "state")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refusal(frame: str | bytes | dict[str, Any]) -> ProtocolError:
    """The ProtocolError parse raises for ``frame`` (a dict is sent as JSON)."""
    text = json.dumps(frame) if isinstance(frame, dict) else frame
    with pytest.raises(ProtocolError) as caught:
        parse(text)
    return caught.value


def msg(type_: str, id_: str = "msg-00000001", **body: Any) -> dict[str, Any]:
    return client_message(type_, id_, **body)


def roundtrip(message: Message) -> Message:
    return parse(dump(to_frame(message)))


# -- the schema and the documentation -----------------------------------------------------------

def test_the_schema_is_valid_draft_2020_12_with_a_definition_per_frame_type() -> None:
    check_schema()
    names = defs()
    assert set(CLIENT_TYPES) <= names
    assert {"client_message", "server_message", "workshop_state", *SERVER_KINDS} <= names
    assert {f"ack_{t}" for t in ("hello", "vote", "propose", "add_kiosk", "revoke_kiosk")} <= names


def test_the_documentation_has_an_example_of_every_frame_type() -> None:
    kinds = {kind for kind, _ in EXAMPLES}
    assert set(CLIENT_TYPES) | set(SERVER_KINDS) <= kinds
    assert kinds <= defs()


@pytest.mark.parametrize(("kind", "frame"), EXAMPLES, ids=[f"{i}-{k}" for i, (k, _) in enumerate(EXAMPLES)])
def test_every_documented_example_validates_and_client_examples_parse(kind: str, frame: dict[str, Any]) -> None:
    validate(frame, kind)
    validate(frame)
    if kind in CLIENT_TYPES:
        message = parse(json.dumps(frame, ensure_ascii=False))
        assert (message.type, message.id) == (kind, frame["id"])
        validate(to_frame(message), kind)
        assert roundtrip(message) == message


def test_the_documentation_names_every_error_code_in_its_table() -> None:
    table = DOC.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert listed == list(ERROR_CODES)


def test_the_documented_roles_table_is_what_the_workshop_allows() -> None:
    from multiplayer.workshop import ALLOWED

    table = DOC.split("| role | may send |", 1)[1].split("\n\n", 1)[0]
    documented = {row[0]: frozenset(re.findall(r"`(\w+)`", row[1]))
                  for row in re.findall(r"^\| (\w+) \| (.*) \|$", table, flags=re.M)}
    assert documented == {role: frozenset(types) for role, types in ALLOWED.items()}


def test_the_docstring_examples_hold() -> None:
    for module in (protocol, fields):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0


# -- what parse accepts, normalised -------------------------------------------------------------

def test_hello_upper_cases_the_join_code_and_keeps_only_named_fields() -> None:
    m = parse(dump(msg("hello", role="kiosk", workshop="hk7m2q", token="t" * 32, lang="pt-BR", nick="bob")))
    assert m == Message("hello", "msg-00000001", {"role": "kiosk", "workshop": "HK7M2Q", "token": "t" * 32,
                                                  "lang": "pt-BR"})


def test_the_repr_of_a_message_never_shows_a_token() -> None:
    m = parse(dump(msg("hello", role="participant", workshop="HK7M2Q", resume="secret-resume-token-123")))
    assert "secret-resume-token-123" not in repr(m) and "secret-resume-token-123" not in str(m)
    assert m.body["resume"] == "secret-resume-token-123"


def test_cast_at_becomes_an_aware_utc_datetime() -> None:
    m = parse(dump(msg("vote", question="q1", choice="a", cast_at="2026-11-21T12:30:00.250+02:00")))
    assert m.body["cast_at"] == datetime(2026, 11, 21, 10, 30, 0, 250000, tzinfo=UTC)
    assert m.body["cast_at"].utcoffset() == timedelta(0)


def test_propose_strips_the_title_and_fills_in_the_optional_collections() -> None:
    m = parse(dump(msg("propose", title="  Shade  ", description=None, kpis={"shade_pct": 3})))
    assert m.body == {"title": "Shade", "description": "", "interventions": [], "kpis": {"shade_pct": 3.0}}
    assert isinstance(m.body["kpis"]["shade_pct"], float)


def test_interventions_keep_their_named_parts_with_float_coordinates() -> None:
    geometry = {"type": "LineString", "coordinates": [[0, 0], [3, 4, 1]], "bbox": [0, 0, 3, 4]}
    m = parse(dump(msg("propose", title="Lane", interventions=[{"catalog": "bike-lane", "geometry": geometry,
                                                                "colour": "red"}])))
    line = {"type": "LineString", "coordinates": [[0.0, 0.0], [3.0, 4.0, 1.0]]}
    assert m.body["interventions"] == [{"catalog": "bike-lane", "params": {}, "geometry": line}]


def test_comment_text_and_kiosk_names_are_stripped() -> None:
    assert parse(dump(msg("comment", target="P1", text="\n  Yes!\n"))).body["text"] == "Yes!"
    assert parse(dump(msg("add_kiosk", name=" library "))).body == {"name": "library"}


@pytest.mark.parametrize(("frame", "body"), [
    (msg("lock"), {"locked": True}),
    (msg("lock", locked=None), {"locked": True}),
    (msg("lock", locked=False), {"locked": False}),
    (msg("timer", seconds=300.0), {"seconds": 300}),
    (msg("timer", add=-30, seconds=None), {"add": -30}),
    (msg("vote", question="q", choice=5.0), {"question": "q", "choice": 5}),
    (msg("question", current=None), {"current": None}),
    (msg("event", name="session_start", session=None), {"name": "session_start", "data": {}}),
    (msg("reveal", to="vote"), {}),
    (msg("close"), {}),
    (msg("phase", to="reveal"), {"to": "reveal"}),
    (msg("revoke_kiosk", kiosk="k1"), {"kiosk": "k1"}),
])
def test_normalised_bodies(frame: dict[str, Any], body: dict[str, Any]) -> None:
    m = parse(dump(frame))
    assert m.body == body
    assert all(type(m.body[key]) is int for key in ("choice", "seconds") if key in m.body)
    validate(frame, frame["type"])


def test_a_nan_in_an_unknown_field_is_dropped_with_the_field() -> None:
    m = parse('{"v":1,"type":"lock","id":"msg-00000001","later":NaN,"big":1e400,"odd":"\\ud800"}')
    assert m.body == {"locked": True}


def test_bytes_are_read_as_utf8() -> None:
    frame = dump(msg("comment", target="P1", text="Hyvä idea ✓"))
    assert parse(frame.encode("utf-8")) == parse(frame) == parse(bytearray(frame.encode("utf-8")))


# -- ids and envelope refusals ------------------------------------------------------------------

@pytest.mark.parametrize("frame", [
    {"v": 1, "type": "lock"},
    {"v": 1, "type": "lock", "id": None},
    {"v": 1, "type": "lock", "id": "short7c"},
    {"v": 1, "type": "lock", "id": "x" * 65},
    {"v": 1, "type": "lock", "id": "has space"},
    {"v": 1, "type": "lock", "id": "ünïcödé-id"},
    {"v": 1, "type": "lock", "id": 12345678},
    {"v": 1, "type": "lock", "id": ["abcdefgh"]},
])
def test_a_missing_or_malformed_id_is_a_bad_message_with_no_re(frame: dict[str, Any]) -> None:
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", None)
    assert "'id'" in refused.message
    with pytest.raises(AssertionError):
        validate(frame, "lock")


def test_ids_of_8_and_64_characters_are_accepted() -> None:
    for id_ in ("a" * 8, "Z-_9" * 16):
        assert parse(dump(msg("lock", id_))).id == id_


@pytest.mark.parametrize(("v", "said"), [(None, "has no 'v'"), (2, "version 2"), ("1", "version '1'"),
                                          (True, "version True"), (0.5, "version 0.5")])
def test_a_wrong_version_names_the_supported_one_and_keeps_the_id(v: Any, said: str) -> None:
    frame = {"type": "lock", "id": "msg-00000001"} | ({} if v is None else {"v": v})
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", "msg-00000001")
    assert said in refused.message and "version 1" in refused.message
    with pytest.raises(AssertionError):
        validate(frame)


@pytest.mark.parametrize("type_", ["ack", "state", "Vote", "subscribe", ""])
def test_an_unknown_type_is_unknown_type_with_the_id(type_: str) -> None:
    refused = refusal(msg(type_))
    assert (refused.code, refused.re) == ("unknown_type", "msg-00000001")
    with pytest.raises(AssertionError):
        validate(msg(type_), "client_message")


@pytest.mark.parametrize("frame", [msg("x") | {"type": None}, {"v": 1, "id": "msg-00000001"},
                                   msg("x") | {"type": ["vote"]}])
def test_a_missing_type_is_a_bad_message_with_the_id(frame: dict[str, Any]) -> None:
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", "msg-00000001")


@pytest.mark.parametrize(("frame", "said"), [
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"v":1,"type":"lock","id":"msg-0000000\xe9"}', "not UTF-8"),
    ('{"v":1,"type":"lock","id":"msg-00000001","x":"\ud800"}', "lone surrogate"),
    ("", "not valid JSON"),
    ("{'v': 1}", "not valid JSON"),
    ('{"v":1,', "not valid JSON"),
    ("\ufeff{}", "not valid JSON"),
    ("[1, 2]", "one JSON object"),
    ('"hello"', "one JSON object"),
    ("null", "one JSON object"),
    ("[" * 8000 + "]" * 8000, "nested too deeply"),
    ('{"a":' * 2500 + "1" + "}" * 2500, "nested too deeply"),
    ('{"v":1,"type":"lock","id":"msg-00000001","n":' + "9" * 5000 + "}", "number in it is too long"),
])
def test_frames_that_are_not_json_objects_are_bad_messages(frame: str | bytes, said: str) -> None:
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", None)
    assert said in refused.message


@pytest.mark.parametrize("frame", [None, 42, 1.5, ["{}"], {"v": 1}])
def test_anything_that_is_not_text_or_bytes_is_refused(frame: Any) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    assert caught.value.code == "bad_message"


def test_a_frame_over_16_kib_is_too_large_and_names_its_id_when_readable() -> None:
    fits = dump(msg("comment", target="P1", text="x"))
    padded = fits[:-1] + ',"pad":"' + "p" * (MAX_FRAME_BYTES - len(fits) - 9) + '"}'
    assert len(padded.encode()) == MAX_FRAME_BYTES
    assert parse(padded).type == "comment"
    over = padded.replace('"pad":"', '"pad":"p')
    refused = refusal(over)
    assert (refused.code, refused.re) == ("too_large", "msg-00000001")
    assert str(MAX_FRAME_BYTES) in refused.message
    assert refusal(over.encode()).re == "msg-00000001"
    # Multi-byte characters count as bytes, not characters.
    assert refusal(dump(msg("comment", target="P1", text="ä" * 9000))).code == "too_large"
    assert refusal(b"\xff" * (MAX_FRAME_BYTES + 1)).code == "too_large"
    huge = refusal(dump(msg("comment", target="P1", text="x" * 64 * MAX_FRAME_BYTES)))
    assert (huge.code, huge.re) == ("too_large", None)


# -- field refusals: parse and the schema agree ---------------------------------------------------

REFUSED_BY_BOTH: list[tuple[dict[str, Any], str]] = [
    (msg("hello", role="admin", workshop="HK7M2Q"), "hello: 'role' must be one of"),
    (msg("hello", workshop="HK7M2Q"), "hello: 'role'"),
    (msg("hello", role="wall", workshop="HK7"), "hello: 'workshop' must be a join code"),
    (msg("hello", role="wall", workshop="H" * 17), "hello: 'workshop'"),
    (msg("hello", role="wall", workshop="HK-7M2Q"), "hello: 'workshop'"),
    (msg("hello", role="wall"), "hello: 'workshop'"),
    (msg("hello", role="wall", workshop="HK7M2Q", token="t" * 15), "hello: 'token' must be a token"),
    (msg("hello", role="wall", workshop="HK7M2Q", token="t" * 129), "hello: 'token'"),
    (msg("hello", role="wall", workshop="HK7M2Q", token="t" * 20 + "\n"), "hello: 'token'"),
    (msg("hello", role="participant", workshop="HK7M2Q", resume=12345678901234567), "hello: 'resume'"),
    (msg("hello", role="participant", workshop="HK7M2Q", lang="Finnish"), "hello: 'lang' must be a language tag"),
    (msg("hello", role="participant", workshop="HK7M2Q", lang="pt_BR"), "hello: 'lang'"),
    (msg("vote", question="q1", choice=True), "vote: 'choice' must be an option id or a score from 1 to 5."),
    (msg("vote", question="q1", choice=0), "vote: 'choice'"),
    (msg("vote", question="q1", choice=6), "vote: 'choice'"),
    (msg("vote", question="q1", choice=2.5), "vote: 'choice'"),
    (msg("vote", question="q1", choice=""), "vote: 'choice'"),
    (msg("vote", question="q1", choice="no such!"), "vote: 'choice'"),
    (msg("vote", question="q1"), "vote: 'choice'"),
    (msg("vote", choice="a"), "vote: 'question' must be an id"),
    (msg("vote", question="q" * 65, choice="a"), "vote: 'question'"),
    (msg("vote", question="q1", choice="a", session=""), "vote: 'session'"),
    (msg("vote", question="q1", choice="a", session="s" * 65), "vote: 'session'"),
    (msg("vote", question="q1", choice="a", cast_at="2026-11-21T10:00:00"), "vote: 'cast_at' must be an ISO 8601"),
    (msg("vote", question="q1", choice="a", cast_at="2026-11-21"), "vote: 'cast_at'"),
    (msg("vote", question="q1", choice="a", cast_at="yesterday"), "vote: 'cast_at'"),
    (msg("vote", question="q1", choice="a", cast_at=1763719200), "vote: 'cast_at'"),
    (msg("propose"), "propose: 'title' must be 1 to 120 characters on one line."),
    (msg("propose", title=""), "propose: 'title'"),
    (msg("propose", title=" \t "), "propose: 'title'"),
    (msg("propose", title="x" * 121), "propose: 'title'"),
    (msg("propose", title="two\nlines"), "propose: 'title'"),
    (msg("propose", title="bell\x07"), "propose: 'title'"),
    (msg("propose", title=["Shade"]), "propose: 'title'"),
    (msg("propose", title="t", description="d" * 2001), "propose: 'description'"),
    (msg("propose", title="t", description="nul\x00"), "propose: 'description'"),
    (msg("propose", title="t", scene_hash="h" * 129), "propose: 'scene_hash'"),
    (msg("propose", title="t", interventions={"catalog": "bench"}), "propose: 'interventions' must be a list"),
    (msg("propose", title="t", interventions=[{"catalog": "bench",
                                               "geometry": {"type": "Point", "coordinates": [0, 0]}}] * 51),
     "propose: 'interventions' must be a list of at most 50"),
    (msg("propose", title="t", interventions=["bench"]), "propose: 'interventions[0]' must be an object"),
    (msg("propose", title="t", interventions=[{"geometry": {"type": "Point", "coordinates": [0, 0]}}]),
     "propose: 'interventions[0].catalog'"),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "geometry": {"type": "MultiPoint",
                                                                                "coordinates": [[0, 0]]}}]),
     "propose: 'interventions[0].geometry' must be a GeoJSON Point, LineString or Polygon"),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "geometry": {"type": "Point",
                                                                                "coordinates": [1]}}]),
     "propose: 'interventions[0].geometry.coordinates' must be a position"),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "geometry": {"type": "Point",
                                                                                "coordinates": [2e7, 0]}}]),
     "propose: 'interventions[0].geometry.coordinates'"),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "geometry": {"type": "Point",
                                                                                "coordinates": [0, True]}}]),
     "propose: 'interventions[0].geometry.coordinates'"),
    (msg("propose", title="t", interventions=[{"catalog": "lane", "geometry": {"type": "LineString",
                                                                               "coordinates": [[0, 0]]}}]),
     "propose: 'interventions[0].geometry.coordinates' must be a list of at least 2 positions."),
    (msg("propose", title="t", interventions=[{"catalog": "park", "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}}]),
     "propose: 'interventions[0].geometry.coordinates[0]' must be a closed ring"),
    (msg("propose", title="t", interventions=[{"catalog": "park", "geometry": {"type": "Polygon",
                                                                               "coordinates": []}}]),
     "propose: 'interventions[0].geometry.coordinates' must be a list of one or more closed rings."),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "params": [1],
                                               "geometry": {"type": "Point", "coordinates": [0, 0]}}]),
     "propose: 'interventions[0].params' must be a JSON object."),
    (msg("propose", title="t", kpis={"Shade": 1}), "propose: 'kpis' must have KPI names"),
    (msg("propose", title="t", kpis={"shade": "1"}), "propose: 'kpis.shade' must be a finite number."),
    (msg("propose", title="t", kpis={"shade": False}), "propose: 'kpis.shade'"),
    (msg("propose", title="t", kpis={f"k{i}": i for i in range(51)}), "propose: 'kpis' must be an object of at most"),
    (msg("propose", title="t", kpis=[1]), "propose: 'kpis'"),
    (msg("comment", target="P1"), "comment: 'text' must be 1 to 1000 characters"),
    (msg("comment", target="P1", text="   "), "comment: 'text'"),
    (msg("comment", target="P1", text="x" * 1001), "comment: 'text'"),
    (msg("comment", target="P1", text="esc\x1b[31m"), "comment: 'text'"),
    (msg("comment", text="hi"), "comment: 'target'"),
    (msg("event", name="Start"), "event: 'name' must be a lower-case name"),
    (msg("event", name="1st"), "event: 'name'"),
    (msg("event", name="a" * 42), "event: 'name'"),
    (msg("event", name="placed", data=[1, 2]), "event: 'data' must be a JSON object"),
    (msg("phase", to="done"), "phase: 'to' must be one of lobby, explore, propose, vote, reveal or closed."),
    (msg("phase"), "phase: 'to'"),
    (msg("timer"), "timer: send exactly one of 'seconds' and 'add'."),
    (msg("timer", seconds=10, add=10), "timer: send exactly one"),
    (msg("timer", seconds=-1), "timer: 'seconds' must be a whole number of seconds from 0 to 86400."),
    (msg("timer", seconds=86401), "timer: 'seconds'"),
    (msg("timer", seconds=1.5), "timer: 'seconds'"),
    (msg("timer", seconds="60"), "timer: 'seconds'"),
    (msg("timer", add=86401), "timer: 'add'"),
    (msg("timer", add=-86401), "timer: 'add'"),
    (msg("lock", locked="yes"), "lock: 'locked' must be true or false."),
    (msg("lock", locked=1), "lock: 'locked'"),
    (msg("question"), "question: 'current' must be a question id or null."),
    (msg("question", current=5), "question: 'current'"),
    (msg("add_kiosk", name=""), "add_kiosk: 'name' must be 1 to 60 characters on one line."),
    (msg("add_kiosk", name="n" * 61), "add_kiosk: 'name'"),
    (msg("add_kiosk"), "add_kiosk: 'name'"),
    (msg("revoke_kiosk", kiosk=""), "revoke_kiosk: 'kiosk' must be a kiosk id"),
    (msg("revoke_kiosk"), "revoke_kiosk: 'kiosk'"),
]


@pytest.mark.parametrize(("frame", "said"), REFUSED_BY_BOTH, ids=[s.split(" must")[0] for _, s in REFUSED_BY_BOTH])
def test_invalid_messages_are_refused_by_parse_and_by_the_schema(frame: dict[str, Any], said: str) -> None:
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", "msg-00000001")
    assert refused.message.startswith(said)
    assert refused.message.endswith(".") and refused.message.count(". ") == 0
    with pytest.raises(AssertionError):
        validate(frame, frame["type"])
    with pytest.raises(AssertionError):
        validate(frame)


@pytest.mark.parametrize(("frame", "said"), [
    (msg("propose", title="t", interventions=[{"catalog": "park", "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}]),
     "propose: 'interventions[0].geometry.coordinates[0]' must be a closed ring"),
    (msg("vote", question="q", choice="a", cast_at="2026-13-01T10:00:00Z"), "vote: 'cast_at'"),
    (msg("vote", question="q", choice="a", cast_at="2026-11-21T10:00:00+24:00"), "vote: 'cast_at'"),
    (msg("vote", question="q", choice="a", cast_at="0001-01-01T00:30:00+01:00"), "vote: 'cast_at'"),
    (msg("event", name="placed", data={"blob": "x" * 4100}), "event: 'data' must be at most 4096 bytes"),
    (msg("event", name="placed", data={"n": 2**53}), "event: 'data.n' must be a whole number within"),
    (msg("event", name="placed", data={"a": [[[[[[[[1]]]]]]]]}), "event: 'data.a[0][0][0][0][0][0][0]' is nested more"),
    (msg("propose", title="t", interventions=[{"catalog": "bench", "params": {"n": -(2**60)},
                                               "geometry": {"type": "Point", "coordinates": [0, 0]}}]),
     "propose: 'interventions[0].params.n'"),
    (msg("comment", target="P1", text="\ud83d broken"), "comment: 'text' must be Unicode text"),
    (msg("event", name="placed", data={"k": ["ok", "\udc00"]}), "event: 'data.k[1]' must be Unicode text"),
])
def test_rules_the_schema_cannot_say_are_checked_by_parse(frame: dict[str, Any], said: str) -> None:
    """The schema's description lists these (closed rings, real dates, sizes, depth, surrogates)."""
    validate(frame, frame["type"])
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", "msg-00000001")
    assert refused.message.startswith(said)


def test_depth_and_size_limits_are_inclusive() -> None:
    deep: Any = 1
    for _ in range(fields.MAX_DEPTH - 1):
        deep = [deep]
    assert parse(dump(msg("event", name="n", data={"a": deep}))).body["data"] == {"a": deep}
    blob = "x" * (fields.MAX_DATA_BYTES - len('{"b":""}'))
    assert parse(dump(msg("event", name="n", data={"b": blob}))).body["data"]["b"] == blob
    assert parse(dump(msg("event", name="n", data={"n": 2**53 - 1, "m": -(2**53 - 1)}))).type == "event"
    assert parse(dump(msg("comment", target="P1", text="y" * 1000))).body["text"] == "y" * 1000
    assert parse(dump(msg("propose", title="z" * 120))).body["title"] == "z" * 120


@pytest.mark.parametrize(("literal", "field"), [
    ('{"kpis":{"shade":NaN}}', "'kpis.shade'"),
    ('{"kpis":{"shade":-Infinity}}', "'kpis.shade'"),
    ('{"kpis":{"shade":1e400}}', "'kpis.shade'"),
    ('{"kpis":{"shade":' + "1" * 400 + "}}", "'kpis.shade'"),
    ('{"interventions":[{"catalog":"bench","geometry":{"type":"Point","coordinates":[NaN,0]}}]}',
     "'interventions[0].geometry.coordinates'"),
    ('{"interventions":[{"catalog":"bench","geometry":{"type":"Point","coordinates":[0,0]},'
     '"params":{"h":Infinity}}]}', "'interventions[0].params.h'"),
])
def test_non_finite_numbers_are_refused_naming_the_field(literal: str, field: str) -> None:
    frame = '{"v":1,"type":"propose","id":"msg-00000001","title":"t",' + literal[1:]
    refused = refusal(frame)
    assert (refused.code, refused.re) == ("bad_message", "msg-00000001")
    assert refused.message.startswith(f"propose: {field} must")


def test_timer_and_choice_refuse_non_finite_numbers() -> None:
    assert refusal('{"v":1,"type":"timer","id":"msg-00000001","seconds":NaN}').message.startswith("timer: 'seconds'")
    assert refusal('{"v":1,"type":"vote","id":"msg-00000001","question":"q","choice":Infinity}').code == "bad_message"


# -- server frames -------------------------------------------------------------------------------

STATE = next(frame["state"] for kind, frame in EXAMPLES if kind == "state")


@pytest.mark.parametrize("code", ERROR_CODES)
def test_error_frames_validate_for_every_code(code: str) -> None:
    validate(error("msg-00000001", code, "A sentence."), "error")
    validate(ProtocolError(code, "A sentence.").reply())
    validate(dump(error(None, code, "A sentence.")))


def test_an_unknown_error_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown error code"):
        ProtocolError("oops", "A sentence.")
    with pytest.raises(AssertionError):
        validate({"v": 1, "type": "error", "re": None, "code": "oops", "message": "A sentence."})


def test_acks_and_state_pushes_validate() -> None:
    validate(ack("msg-00000001"), "ack_event")
    validate(ack("msg-00000001", actor="p3", participant="p" * 32, state=STATE), "ack_hello")
    validate(ack("msg-00000001", question="q", choice=3, late=False, counted=True, replaced=True), "ack_vote")
    validate(ack("msg-00000001", proposal="P12", late=True), "ack_propose")
    validate(ack("msg-00000001", phase="vote", timer_ends_at=None), "ack_phase")
    validate(ack("msg-00000001", kiosk="k1", token="k" * 32), "ack_add_kiosk")
    validate(ack("msg-00000001", kiosk="k1", duplicate=True), "ack_add_kiosk")
    validate(ack("msg-00000001", kiosk="k1", revoked=True), "ack_revoke_kiosk")
    validate(state_push(STATE), "state")
    validate(dump(state_push({**STATE, "tallies": None, "timer_ends_at": None})))


@pytest.mark.parametrize(("frame", "kind"), [
    (ack("msg-00000001", kiosk="k1"), "ack_add_kiosk"),                    # the token is missing
    (ack("msg-00000001", duplicate=False), "ack"),
    (ack("msg-00000001", proposal="proposal-1"), "ack"),
    (ack("short"), "ack"),
    (ack("msg-00000001", actor="p1"), "ack_hello"),                        # no state
    (state_push({**STATE, "phase": "voting"}), "state"),
    (state_push({**STATE, "tallies": {"priority": {"shade": -1}}}), "state"),
    (state_push({**STATE, "timer_ends_at": "2026-11-21T10:35:00+02:00"}), "state"),
    (state_push({k: v for k, v in STATE.items() if k != "counts"}), "state"),
    ({"v": 1, "type": "state"}, "server_message"),
])
def test_malformed_server_frames_do_not_validate(frame: dict[str, Any], kind: str) -> None:
    with pytest.raises(AssertionError):
        validate(frame, kind)


def test_client_message_and_to_frame_build_valid_frames() -> None:
    built = client_message("lock")
    validate(built, "lock")
    assert parse(dump(built)).id == built["id"]
    assert len({client_message("close")["id"] for _ in range(100)}) == 100


# -- property tests ------------------------------------------------------------------------------

LEAVES = (st.none() | st.booleans() | st.integers(-fields.MAX_SAFE_INT, fields.MAX_SAFE_INT)
          | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(exclude_categories=["Cs"]),
                                                                        max_size=12))
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                                   max_size=4),
                        max_leaves=20)


def free_objects(depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects nested at most 2 * depth - 1 deep, small enough for an event's 4 KiB."""
    inner = LEAVES if depth <= 1 else LEAVES | st.lists(free_objects(depth - 1), max_size=2) | free_objects(depth - 1)
    objects = st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), inner, max_size=3)
    return objects.filter(lambda d: len(dump(d).encode("utf-8")) <= fields.MAX_DATA_BYTES)


def words(low: int, high: int, *, lines: bool) -> st.SearchStrategy[str]:
    """Texts of low..high characters after stripping, sometimes padded with white space."""
    chars = st.characters(exclude_categories=["Cs", "Cc"], include_characters="\n\t\r" if lines else "")
    core = st.text(chars, min_size=low, max_size=high).filter(lambda s: len(s.strip()) >= low)
    pad = st.text(" \u00a0\u2003" + ("\t\n" if lines else ""), max_size=3)
    return st.tuples(pad, core, pad).map(lambda t: t[0] + t[1].strip() + t[2])


def ids(low: int = 1) -> st.SearchStrategy[str]:
    return st.from_regex(rf"[A-Za-z0-9_-]{{{low},64}}", fullmatch=True)


def times() -> st.SearchStrategy[str]:
    zones = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
    moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=zones)
    return st.tuples(moments, st.booleans()).map(
        lambda t: t[0].astimezone(UTC).isoformat().replace("+00:00", "Z") if t[1] else t[0].isoformat())


def positions() -> st.SearchStrategy[list[float | int]]:
    number = st.floats(-1e7, 1e7) | st.integers(-10**7, 10**7)
    return st.lists(number, min_size=2, max_size=3)


def geometries() -> st.SearchStrategy[dict[str, Any]]:
    ring = st.lists(positions(), min_size=3, max_size=6).map(lambda r: [*r, r[0]])
    return st.one_of(
        positions().map(lambda p: {"type": "Point", "coordinates": p}),
        st.lists(positions(), min_size=2, max_size=5).map(lambda c: {"type": "LineString", "coordinates": c}),
        st.lists(ring, min_size=1, max_size=2).map(lambda c: {"type": "Polygon", "coordinates": c}))


INTERVENTION = st.fixed_dictionaries({"catalog": ids(), "geometry": geometries()},
                                     optional={"params": free_objects(2)})
KPIS = st.dictionaries(st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True),
                       st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**9, 10**9), max_size=5)
OFFLINE = {"session": ids(), "cast_at": times()}
SECRET = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=16, max_size=128)

#: Per type: (required fields, optional fields), each field with a strategy for valid values.
VALID: dict[str, tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]] = {
    "hello": ({"role": st.sampled_from(protocol.ROLES),
               "workshop": st.from_regex(r"[A-Za-z0-9]{4,16}", fullmatch=True)},
              {"token": SECRET, "resume": SECRET,
               "lang": st.from_regex(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", fullmatch=True)}),
    "vote": ({"question": ids(), "choice": ids() | st.integers(1, 5)}, OFFLINE),
    "propose": ({"title": words(1, 120, lines=False)},
                {"description": st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=300),
                 "interventions": st.lists(INTERVENTION, max_size=3), "kpis": KPIS,
                 "scene_hash": st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=128), **OFFLINE}),
    "comment": ({"target": ids(), "text": words(1, 1000, lines=True)}, OFFLINE),
    "event": ({"name": st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True)},
              {"data": free_objects(3), **OFFLINE}),
    "phase": ({"to": st.sampled_from(protocol.PHASES)}, {}),
    "timer": ({}, {}),
    "lock": ({}, {"locked": st.booleans()}),
    "reveal": ({}, {}),
    "close": ({}, {}),
    "question": ({"current": st.none() | ids()}, {}),
    "add_kiosk": ({"name": words(1, 60, lines=False)}, {}),
    "revoke_kiosk": ({"kiosk": ids()}, {}),
}
TIMER = st.one_of(st.integers(0, 86400).map(lambda s: {"seconds": s}),
                  st.integers(-86400, 86400).map(lambda a: {"add": a}))


@st.composite
def valid_messages(draw: st.DrawFn) -> dict[str, Any]:
    type_ = draw(st.sampled_from(CLIENT_TYPES))
    required, optional = VALID[type_]
    body = {name: draw(strategy) for name, strategy in required.items()}
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)) if optional else []:
        body[name] = draw(optional[name])
    if type_ == "timer":
        body = draw(TIMER)
    extra = draw(st.dictionaries(st.from_regex(r"x_[a-z]{1,6}", fullmatch=True), ANY_JSON, max_size=2))
    frame = client_message(type_, draw(ids(8)), **extra, **body)
    assume(len(json.dumps(frame, ensure_ascii=False).encode("utf-8")) <= MAX_FRAME_BYTES)
    return frame


@st.composite
def message_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A valid envelope around the type's field names with values valid or anything at all."""
    type_ = draw(st.sampled_from(CLIENT_TYPES))
    required, optional = VALID[type_]
    named = {**required, **optional, **({"seconds": st.integers(0, 86400), "add": st.integers()}
                                        if type_ == "timer" else {})}
    body = {}
    for name in draw(st.lists(st.sampled_from(sorted(named)), unique=True)) if named else []:
        body[name] = draw(named[name] | ANY_JSON)
    return client_message(type_, draw(ids(8)), **body)


def check_accepted(frame: dict[str, Any], message: Message) -> None:
    validate(frame, frame["type"])
    validate(frame)
    again = to_frame(message)
    validate(again, message.type)
    assert roundtrip(message) == message
    if "cast_at" in message.body:
        assert message.body["cast_at"].utcoffset() == timedelta(0)


@FUZZ
@given(valid_messages())
def test_every_valid_message_parses_validates_and_round_trips(frame: dict[str, Any]) -> None:
    message = parse(json.dumps(frame, ensure_ascii=False))  # extra fields may hold NaN: parse drops them
    assert (message.type, message.id) == (frame["type"], frame["id"])
    assert not any(key.startswith("x_") for key in message.body)
    check_accepted(frame, message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_shaped())
def test_whatever_parse_accepts_the_schema_accepts(frame: dict[str, Any]) -> None:
    text = json.dumps(frame, ensure_ascii=False)
    try:
        message = parse(text)
    except ProtocolError as refused:
        assert refused.code in ("bad_message", "too_large")
        assert refused.re == frame["id"] or refused.code == "too_large"
        return
    check_accepted(json.loads(text), message)


def parses_or_refuses(frame: Any) -> None:
    try:
        message = parse(frame)
    except ProtocolError as refused:
        assert refused.code in ERROR_CODES
        dump(refused.reply()).encode("utf-8")  # the refusal itself can always be sent
        validate(refused.reply(), "error")
    else:
        assert isinstance(message, Message) and message.type in CLIENT_TYPES
        dump(to_frame(message)).encode("utf-8")


@FUZZ
@given(st.text())
def test_any_text_parses_or_is_refused(frame: str) -> None:
    parses_or_refuses(frame)


@FUZZ
@given(st.binary())
def test_any_bytes_parse_or_are_refused(frame: bytes) -> None:
    parses_or_refuses(frame)


@FUZZ
@given(ANY_JSON)
def test_any_json_value_parses_or_is_refused(value: Any) -> None:
    parses_or_refuses(json.dumps(value))


@FUZZ
@given(st.sampled_from(CLIENT_TYPES), st.dictionaries(st.text(max_size=12), ANY_JSON, max_size=6))
def test_any_fields_under_a_valid_envelope_parse_or_are_refused(type_: str, body: dict[str, Any]) -> None:
    frame = {**body, "v": 1, "type": type_, "id": "fuzz-0000001"}
    parses_or_refuses(json.dumps(frame))
    parses_or_refuses(json.dumps(frame).encode("utf-8"))


def test_tokens_never_start_like_a_command_line_option() -> None:
    tokens = [new_token() for _ in range(2000)]  # about 1 in 64 token_urlsafe strings starts with "-"
    assert not any(t.startswith("-") for t in tokens)
    assert len(set(tokens)) == len(tokens) and all(len(t) == 32 for t in tokens)
