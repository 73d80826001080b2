"""The plain data a workshop needs from its scenario: questions, languages, rounds, frame.

:func:`spec_from_scenario` reads a loaded :class:`world.scenario.Scenario` (its
``[workshop]`` and ``[[questions]]`` tables, left in ``extra`` by the loader) once, when a
workshop is created; the result is stored as JSON in the workshop's first event, so a
workshop can be restored from its event log alone even if the scenario file changes later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from world.frame import LocalFrame
from world.scenario import Scenario, ScenarioError

__all__ = ["QUESTION_KINDS", "SCORES", "Option", "Question", "WorkshopSpec", "spec_from_json", "spec_from_scenario",
           "spec_to_json"]

QUESTION_KINDS = ("choice", "score", "proposal")
#: The choices of a score question, as tally keys.
SCORES = ("1", "2", "3", "4", "5")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_ROUND_PHASES = ("lobby", "explore", "propose", "vote")


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a choice question: a stable id and its label per language."""

    id: str
    label: dict[str, str]


@dataclass(frozen=True, slots=True)
class Question:
    """A question put to the room: ``kind`` is ``choice`` (pick an option), ``score``
    (1 to 5) or ``proposal`` (pick one of the workshop's proposals; no fixed options)."""

    id: str
    kind: str
    text: dict[str, str]
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkshopSpec:
    """Everything a workshop takes from its scenario. Proposals' geometry is in local metres
    of the frame given by ``crs`` and ``origin_m``; ``area_m`` is the scenario area in it."""

    scenario: str
    title: dict[str, str]
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    rounds_s: dict[str, int]
    allowed: tuple[str, ...]
    crs: str
    origin_m: tuple[float, float]
    area_m: tuple[float, float, float, float]

    def question(self, question_id: str) -> Question | None:
        """The question with id ``question_id``, or None."""
        return next((q for q in self.questions if q.id == question_id), None)


def spec_from_scenario(scenario: Scenario, frame: LocalFrame | None = None) -> WorkshopSpec:
    """The workshop spec of ``scenario`` with proposals in ``frame``'s local metres.

    Without a frame the frame is the scenario CRS with its origin at the centre of the
    scenario area (which is where the shipped city packages put theirs). Malformed
    ``[workshop]`` or ``[[questions]]`` tables raise :class:`ScenarioError` with one sentence.

    >>> from world.scenario import load_scenario
    >>> spec = spec_from_scenario(load_scenario("helsinki-centre"))
    >>> [q.kind for q in spec.questions], spec.area_m
    (['choice', 'score', 'proposal'], (-500.0, -500.0, 500.0, 500.0))
    """
    source = f"scenario {scenario.id}"
    if frame is None:
        min_x, min_y, max_x, max_y = scenario.bounds
        frame = LocalFrame(scenario.crs, (min_x + max_x) / 2.0, (min_y + max_y) / 2.0)
    table = scenario.extra.get("workshop", {})
    if not isinstance(table, Mapping):
        raise ScenarioError(f"{source}: [workshop] must be a table.")
    languages = table.get("languages", list(scenario.title) or ["en"])
    if not (isinstance(languages, list) and languages and all(isinstance(x, str) and _LANG.match(x)
                                                              for x in languages)):
        raise ScenarioError(f"{source}: [workshop] languages must be a list of language codes such as \"fi\".")
    rounds = table.get("rounds_s", {})
    if not (isinstance(rounds, Mapping) and all(k in _ROUND_PHASES and isinstance(v, int) and not isinstance(v, bool)
                                                and 0 < v <= 86400 for k, v in rounds.items())):
        raise ScenarioError(f"{source}: [workshop] rounds_s must map lobby, explore, propose or vote "
                            "to a number of seconds from 1 to 86400.")
    raw_questions = scenario.extra.get("questions", [])
    if not isinstance(raw_questions, list):
        raise ScenarioError(f"{source}: [[questions]] must be an array of tables.")
    questions = tuple(_question(raw, index, source) for index, raw in enumerate(raw_questions, start=1))
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise ScenarioError(f"{source}: two questions have the id {question.id!r}.")
        seen.add(question.id)
    return WorkshopSpec(scenario=scenario.id, title=dict(scenario.title), languages=tuple(languages),
                        questions=questions, rounds_s=dict(rounds), allowed=tuple(scenario.allowed),
                        crs=frame.crs, origin_m=(float(frame.origin_x_m), float(frame.origin_y_m)),
                        area_m=tuple(float(v) for v in scenario.area_m(frame)))  # type: ignore[arg-type]


def _question(raw: Any, index: int, source: str) -> Question:
    where = f"{source}: question {index}"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where} must be a table.")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise ScenarioError(f"{where} needs an id of 1 to 64 letters, digits, '-' or '_'.")
    where = f"{source}: question {qid!r}"
    kind = raw.get("kind")
    if kind not in QUESTION_KINDS:
        raise ScenarioError(f"{where} has kind {kind!r}; use choice, score or proposal.")
    text = _texts(raw.get("text"), f"{where} text")
    options = raw.get("options", [])
    if not isinstance(options, list):
        raise ScenarioError(f"{where} options must be a list.")
    if kind != "choice":
        if options:
            raise ScenarioError(f"{where} is a {kind} question and takes no options.")
        return Question(qid, kind, text)
    if len(options) < 2:
        raise ScenarioError(f"{where} is a choice question and needs at least two options.")
    parsed = []
    for option in options:
        oid = option.get("id") if isinstance(option, Mapping) else None
        if not isinstance(oid, str) or not _ID.match(oid):
            raise ScenarioError(f"{where} has an option without a valid id.")
        parsed.append(Option(oid, _texts(option.get("label"), f"{where} option {oid!r} label")))
    if len({o.id for o in parsed}) != len(parsed):
        raise ScenarioError(f"{where} has two options with the same id.")
    return Question(qid, kind, text, tuple(parsed))


def _texts(value: Any, where: str) -> dict[str, str]:
    if not (isinstance(value, Mapping) and value and all(isinstance(k, str) and isinstance(v, str) and v
                                                         for k, v in value.items())):
        raise ScenarioError(f"{where} must be a table of texts per language, such as {{ en = \"…\" }}.")
    return dict(value)


def spec_to_json(spec: WorkshopSpec) -> dict[str, Any]:
    """The spec as plain JSON data (stored in the workshop's ``created`` event)."""
    return {"scenario": spec.scenario, "title": dict(spec.title), "languages": list(spec.languages),
            "questions": [{"id": q.id, "kind": q.kind, "text": dict(q.text),
                           "options": [{"id": o.id, "label": dict(o.label)} for o in q.options]}
                          for q in spec.questions],
            "rounds_s": dict(spec.rounds_s), "allowed": list(spec.allowed), "crs": spec.crs,
            "origin_m": list(spec.origin_m), "area_m": list(spec.area_m)}


def spec_from_json(data: Mapping[str, Any]) -> WorkshopSpec:
    """The inverse of :func:`spec_to_json`."""
    questions = tuple(Question(q["id"], q["kind"], dict(q["text"]),
                               tuple(Option(o["id"], dict(o["label"])) for o in q.get("options", ())))
                      for q in data["questions"])
    x_m, y_m = data["origin_m"]
    min_x, min_y, max_x, max_y = data["area_m"]
    return WorkshopSpec(scenario=data["scenario"], title=dict(data["title"]), languages=tuple(data["languages"]),
                        questions=questions, rounds_s={k: int(v) for k, v in data["rounds_s"].items()},
                        allowed=tuple(data["allowed"]), crs=data["crs"], origin_m=(float(x_m), float(y_m)),
                        area_m=(float(min_x), float(min_y), float(max_x), float(max_y)))
