"""Every role × every client message type: forbidden exactly where the protocol says so.

Each pair gets a workshop set up so that the message would be accepted (the right phase,
a kiosk to revoke, a question to comment on); an allowed pair must then be acked and a
forbidden one refused with ``forbidden``, storing nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from multiplayer.protocol import CLIENT_TYPES, ROLES
from multiplayer.workshop import ALLOWED, Actor
from tests.multiplayer.workshop_helpers import FACILITATOR, TREE, Room

#: The contract's table, written out independently of the module's own ALLOWED.
CONTRACT = {
    "facilitator": {"phase", "timer", "lock", "reveal", "close", "question", "add_kiosk", "revoke_kiosk", "comment"},
    "kiosk": {"vote", "propose", "comment", "event"},
    "participant": {"vote", "propose", "comment", "event"},
    "wall": set(),
}

#: type -> (phase to set up, message body) such that an allowed sender is acked.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "vote": ("vote", {"question": "priority", "choice": "shade", "session": "s1"}),
    "propose": ("propose", {"title": "Shade for the bench", "interventions": [TREE], "kpis": {"shade_m2": 38.0},
                            "session": "s1"}),
    "comment": ("explore", {"target": "priority", "text": "More benches, please."}),
    "event": ("explore", {"name": "placed", "data": {"catalog": "tree-medium"}, "session": "s1"}),
    "phase": ("explore", {"to": "vote"}),
    "timer": ("vote", {"seconds": 120}),
    "lock": ("vote", {"locked": True}),
    "reveal": ("vote", {}),
    "close": ("vote", {}),
    "question": ("vote", {"current": "street-score"}),
    "add_kiosk": ("lobby", {"name": "town hall"}),
    "revoke_kiosk": ("lobby", {"kiosk": "k1"}),
}
PAIRS = [(role, type) for role in ROLES for type in CLIENT_TYPES if type != "hello"]


def _actor(room: Room, role: str, kiosk_token: str) -> Actor:
    if role == "kiosk":
        return room.join("kiosk", token=kiosk_token)[0]
    if role == "wall":
        return room.join("wall", token=room.view_token)[0]
    return room.join(role)[0]


def test_cases_cover_every_type() -> None:
    assert set(CASES) == set(CLIENT_TYPES) - {"hello"}
    assert {role: set(types) for role, types in ALLOWED.items()} == CONTRACT


@pytest.mark.parametrize(("role", "type"), PAIRS, ids=[f"{role}-{type}" for role, type in PAIRS])
def test_role_may_send_type_exactly_as_the_contract_says(role: str, type: str) -> None:
    room = Room()
    kiosk_token = room.ok(FACILITATOR, "add_kiosk", name="library")["token"]
    phase, body = CASES[type]
    if phase != "lobby":
        room.phase(phase)
    actor = _actor(room, role, kiosk_token)
    rev = room.workshop.rev
    outcome = room.send(actor, type, **body)
    if type in CONTRACT[role]:
        assert outcome.reply["type"] == "ack", outcome.reply
        assert "duplicate" not in outcome.reply
        assert outcome.records and room.workshop.rev == rev + 1
    else:
        assert outcome.reply["type"] == "error" and outcome.reply["code"] == "forbidden", outcome.reply
        assert outcome.records == [] and room.workshop.rev == rev
        assert role in outcome.reply["message"] and type in outcome.reply["message"]


@pytest.mark.parametrize("role", ROLES)
def test_hello_again_is_already_joined(role: str) -> None:
    room = Room()
    kiosk_token = room.ok(FACILITATOR, "add_kiosk", name="library")["token"]
    actor = _actor(room, role, kiosk_token)
    room.refused(actor, "hello", "already_joined", role=role, workshop=room.code)


def test_unknown_type_after_hello() -> None:
    room = Room()
    room.refused(FACILITATOR, "teleport", "unknown_type")
