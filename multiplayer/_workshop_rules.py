"""What each client message may do: the checks, and the event an accepted one becomes.

:func:`decide` takes the state, who sent a message and the message, and either raises
:class:`~multiplayer.protocol.ProtocolError` (nothing changes) or returns a
:class:`Decision`: the event to log and apply (None for a no-op such as going to the phase
the workshop is already in), the ack result, and what only the live reply carries (a new
kiosk's token). Every decision the state needs later is written into the event's data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from multiplayer._workshop_events import Event, iso, to_ms
from multiplayer._workshop_spec import Question
from multiplayer._workshop_state import OPEN_PHASES, State
from multiplayer.protocol import PHASES, Message, ProtocolError

__all__ = ["ALLOWED", "Decision", "decide"]

#: Which client message types each role may send after hello (everything else: forbidden).
ALLOWED: dict[str, frozenset[str]] = {
    "facilitator": frozenset({"phase", "timer", "lock", "reveal", "close", "question", "add_kiosk", "revoke_kiosk",
                              "comment"}),
    "kiosk": frozenset({"vote", "propose", "comment", "event"}),
    "participant": frozenset({"vote", "propose", "comment", "event"}),
    "wall": frozenset(),
}
_WHAT = {"vote": "Voting", "propose": "Proposing", "comment": "Commenting"}


@dataclass(slots=True)
class Decision:
    """An accepted message: its event (None for a no-op), ack result and live-only extras."""

    event: Event | None
    ack: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Context:
    state: State
    role: str
    actor: str
    msg: Message
    now: datetime
    new_token: Callable[[], str]
    hash_token: Callable[[str], str]

    def refuse(self, code: str, message: str) -> ProtocolError:
        return ProtocolError(code, message, self.msg.id)

    def event(self, data: dict[str, Any], ack: dict[str, Any], cast_at: datetime | None = None) -> Decision:
        return Decision(Event(self.state.seq + 1, self.msg.type, self.role, self.actor, self.now, data, ack,
                              self.msg.id, cast_at), ack)


def decide(state: State, role: str, actor: str, msg: Message, now: datetime,
           new_token: Callable[[], str], hash_token: Callable[[str], str]) -> Decision:
    """Check ``msg`` from ``role``/``actor`` (allowed for that role) against the state."""
    handler = _HANDLERS[msg.type]
    return handler(_Context(state, role, actor, msg, now, new_token, hash_token))


def _when(ctx: _Context, kind: str) -> tuple[datetime | None, bool]:
    """(cast_at, late) for a contribution of ``kind``: accepted live while it is open, or
    late from a kiosk whose cast_at falls in an interval when it was open."""
    state = ctx.state
    sent = ctx.msg.body.get("cast_at") if ctx.role == "kiosk" else None
    cast_at = to_ms(sent) if isinstance(sent, datetime) else None
    if state.is_open(kind):
        return cast_at, False
    if cast_at is not None and cast_at <= ctx.now and state.was_open(kind, cast_at):
        return cast_at, True
    if state.phase in OPEN_PHASES[kind]:  # the right phase, but the round is locked
        raise ctx.refuse("locked", f"{_WHAT[kind]} is locked for now; wait for the facilitator to open it again.")
    raise ctx.refuse("wrong_phase", f"{_WHAT[kind]} is not open in the {state.phase} phase.")


def _session(ctx: _Context) -> dict[str, Any]:
    session = ctx.msg.body.get("session")
    return {"session": session} if ctx.role == "kiosk" and session is not None else {}


def _choice_key(ctx: _Context, question: Question, choice: Any) -> str:
    if question.kind == "score":
        if isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= 5:
            return str(choice)
        raise ctx.refuse("bad_choice", f"Question {question.id!r} takes a score from 1 to 5.")
    if question.kind == "choice":
        if isinstance(choice, str) and any(o.id == choice for o in question.options):
            return choice
        names = ", ".join(o.id for o in question.options)
        raise ctx.refuse("bad_choice", f"Question {question.id!r} takes one of the options {names}.")
    if isinstance(choice, str) and choice in ctx.state.proposal_ids:
        return choice
    raise ctx.refuse("bad_choice", f"Question {question.id!r} takes the id of a proposal, and {choice!r} is none.")


def _vote(ctx: _Context) -> Decision:
    body, state = ctx.msg.body, ctx.state
    session = body.get("session")
    if ctx.role == "kiosk" and not session:
        raise ctx.refuse("bad_message", "A kiosk vote needs the 'session' of the person who cast it.")
    cast_at, late = _when(ctx, "vote")
    question = state.spec.question(str(body.get("question")))
    if question is None:
        raise ctx.refuse("unknown_question", f"This workshop has no question {body.get('question')!r}.")
    key = _choice_key(ctx, question, body.get("choice"))
    voter = ctx.actor if ctx.role == "participant" else f"{ctx.actor}/{session}"
    old = state.votes.get((question.id, voter))
    counted = not late or old is None or (cast_at or ctx.now) >= old.cast_at
    data = {"question": question.id, "choice": key, "voter": voter, "late": late, "counted": counted,
            "replaced": counted and old is not None, **_session(ctx)}
    ack = {"question": question.id, "choice": body.get("choice"), "late": late, "counted": counted,
           "replaced": counted and old is not None}
    return ctx.event(data, ack, cast_at)


def _propose(ctx: _Context) -> Decision:
    body, state = ctx.msg.body, ctx.state
    cast_at, late = _when(ctx, "propose")
    interventions = json.loads(json.dumps(list(body.get("interventions") or [])))
    for intervention in interventions:
        catalog = intervention.get("catalog") if isinstance(intervention, dict) else None
        if catalog not in state.spec.allowed:
            raise ctx.refuse("bad_message", f"The intervention {catalog!r} is not allowed in this workshop's "
                                            "scenario; remove it and send the proposal again.")
    proposal = f"P{len(state.proposals) + 1}"
    data = {"proposal": proposal, "title": str(body.get("title", "")).strip(), "description": body.get("description"),
            "interventions": interventions, "kpis": json.loads(json.dumps(dict(body.get("kpis") or {}))),
            "scene_hash": body.get("scene_hash"), "late": late, **_session(ctx)}
    return ctx.event(data, {"proposal": proposal, "late": late}, cast_at)


def _comment(ctx: _Context) -> Decision:
    body, state = ctx.msg.body, ctx.state
    cast_at, late = _when(ctx, "comment")
    target = body.get("target")
    if not isinstance(target, str) or (target not in state.proposal_ids and state.spec.question(target) is None):
        raise ctx.refuse("unknown_target", f"There is no proposal or question {target!r} to comment on.")
    comment = f"C{state.comments + 1}"
    data = {"comment": comment, "target": target, "text": str(body.get("text", "")), "late": late, **_session(ctx)}
    return ctx.event(data, {"comment": comment}, cast_at)


def _event(ctx: _Context) -> Decision:
    body = ctx.msg.body
    cast_at = body.get("cast_at") if ctx.role == "kiosk" else None
    data = {"name": body.get("name"), "data": json.loads(json.dumps(dict(body.get("data") or {}))), **_session(ctx)}
    return ctx.event(data, {}, to_ms(cast_at) if isinstance(cast_at, datetime) else None)


def _not_closed(ctx: _Context) -> None:
    if ctx.state.phase == "closed":
        raise ctx.refuse("wrong_phase", "This workshop is closed; nothing about its rounds can change any more.")


def _phase(ctx: _Context) -> Decision:
    state = ctx.state
    to = {"reveal": "reveal", "close": "closed"}.get(ctx.msg.type, ctx.msg.body.get("to"))
    if to not in PHASES:
        raise ctx.refuse("bad_message", f"'to' must be one of {', '.join(PHASES)}.")
    if to == state.phase:  # a no-op: nothing is stored, the round keeps its timer
        return Decision(None, {"phase": to, "timer_ends_at": iso(state.timer_ends_at)})
    _not_closed(ctx)
    rounds_s = state.spec.rounds_s.get(to)
    ends = iso(ctx.now + timedelta(seconds=rounds_s)) if rounds_s else None
    return ctx.event({"from": state.phase, "to": to, "timer_ends_at": ends}, {"phase": to, "timer_ends_at": ends})


def _timer(ctx: _Context) -> Decision:
    body, state = ctx.msg.body, ctx.state
    _not_closed(ctx)
    seconds, add = body.get("seconds"), body.get("add")
    if (seconds is None) == (add is None):
        raise ctx.refuse("bad_message", "A timer message takes exactly one of 'seconds' and 'add'.")
    if seconds is not None:
        ends = ctx.now + timedelta(seconds=int(seconds)) if seconds else None
        data: dict[str, Any] = {"seconds": int(seconds)}
    else:
        if state.timer_ends_at is None:
            raise ctx.refuse("wrong_phase", "No timer is running; start one with 'seconds' before adding time.")
        ends = state.timer_ends_at + timedelta(seconds=int(add or 0))
        data = {"add": int(add or 0)}
    if ends == state.timer_ends_at:
        return Decision(None, {"timer_ends_at": iso(ends)})
    return ctx.event({**data, "timer_ends_at": iso(ends)}, {"timer_ends_at": iso(ends)})


def _lock(ctx: _Context) -> Decision:
    _not_closed(ctx)
    locked = ctx.msg.body.get("locked", True)
    if not isinstance(locked, bool):
        raise ctx.refuse("bad_message", "'locked' must be true or false.")
    if locked == ctx.state.locked:
        return Decision(None, {"locked": locked})
    return ctx.event({"locked": locked}, {"locked": locked})


def _question(ctx: _Context) -> Decision:
    current = ctx.msg.body.get("current")
    if current is not None and (not isinstance(current, str) or ctx.state.spec.question(current) is None):
        raise ctx.refuse("unknown_question", f"This workshop has no question {current!r} to show.")
    if current == ctx.state.current_question:
        return Decision(None, {"current_question": current})
    return ctx.event({"current": current}, {"current_question": current})


def _add_kiosk(ctx: _Context) -> Decision:
    name = str(ctx.msg.body.get("name", "")).strip()
    if not 1 <= len(name) <= 60:
        raise ctx.refuse("bad_message", "A kiosk needs a name of 1 to 60 characters, such as \"library\".")
    kiosk = f"k{len(ctx.state.kiosks) + 1}"
    token = ctx.new_token()
    decision = ctx.event({"kiosk": kiosk, "name": name, "token_hash": ctx.hash_token(token)}, {"kiosk": kiosk})
    decision.extra["token"] = token
    return decision


def _revoke_kiosk(ctx: _Context) -> Decision:
    kiosk = ctx.msg.body.get("kiosk")
    row = ctx.state.kiosks.get(kiosk) if isinstance(kiosk, str) else None
    if row is None:
        raise ctx.refuse("unknown_target", f"This workshop has no kiosk {kiosk!r}.")
    ack = {"kiosk": kiosk, "revoked": True}
    if row["revoked_at"] is not None:
        return Decision(None, ack)
    return ctx.event({"kiosk": kiosk}, ack)


_HANDLERS: dict[str, Callable[[_Context], Decision]] = {
    "vote": _vote, "propose": _propose, "comment": _comment, "event": _event, "phase": _phase, "reveal": _phase,
    "close": _phase, "timer": _timer, "lock": _lock, "question": _question, "add_kiosk": _add_kiosk,
    "revoke_kiosk": _revoke_kiosk,
}
