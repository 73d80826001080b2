"""The board model: a hand-built wall state in, ranking, tallies, timer and rounds out;
and the consensus grid against known answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from game.wall.board import ROUND_PHASES, board_from_state, board_summary, text_in
from game.wall.colours import KIOSK_COLOURS, LAYER_COLOURS, PHONES_COLOUR, colour_for, hex_colour
from game.wall.consensus import consensus, intervention_shape

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
AREA = [-500.0, -500.0, 500.0, 500.0]


def tree(x: float, y: float, catalog: str = "tree-small") -> dict[str, Any]:
    return {"catalog": catalog, "geometry": {"type": "Point", "coordinates": [x, y]}, "params": {}}


def proposal(pid: str, title: str, kiosk: str | None, interventions: list[dict[str, Any]], **kpis: float
             ) -> dict[str, Any]:
    return {"id": pid, "title": title, "description": None, "interventions": interventions, "kpis": kpis,
            "author_role": "kiosk" if kiosk else "participant", "kiosk": kiosk, "late": pid == "P10"}


def wall_state(**changes: Any) -> dict[str, Any]:
    """A wall view as the server sends it: three questions, four proposals, a timer."""
    state = {
        "rev": 42, "workshop": "HEL234", "scenario": "helsinki-centre",
        "title": {"en": "A greener centre", "fi": "Vihreämpi keskusta"}, "languages": ["en", "fi"],
        "phase": "vote", "locked": False, "timer_ends_at": "2026-11-21T10:02:30.500Z",
        "current_question": "best-proposal",
        "questions": [
            {"id": "priority", "kind": "choice", "text": {"en": "What first?", "fi": "Mitä ensin?"},
             "options": [{"id": "shade", "label": {"en": "Shade", "fi": "Varjoa"}},
                         {"id": "quiet", "label": {"en": "Quiet"}}]},
            {"id": "street-score", "kind": "score", "text": {"en": "Rate the street"}, "options": []},
            {"id": "best-proposal", "kind": "proposal", "text": {"en": "Which proposal?"}, "options": []},
        ],
        "proposals": [
            proposal("P1", "Trees", "k1", [tree(-490, -490)], shade_pct=1.5),
            proposal("P2", "Bench", None, [tree(-450, -490, "bench")]),
            proposal("P10", "Late idea", "k2", [tree(-410, -490)], noise_db=-0.5),
            proposal("P3", "Nothing yet", "k1", []),
        ],
        "tallies": {"priority": {"shade": 5, "quiet": 3}, "street-score": {"1": 0, "2": 1, "3": 2, "4": 4, "5": 1},
                    "best-proposal": {"P1": 4, "P2": 6, "P10": 4, "P3": 0}},
        "area_m": AREA,
        "counts": {"participants": 12, "kiosks": 2, "proposals": 4, "votes": 22},
        "kiosks": [{"id": "k1", "name": "Library", "revoked": False}, {"id": "k2", "name": "Café", "revoked": True}],
    }
    state.update(changes)
    return state


def test_ranking_is_by_votes_then_proposal_number_with_shares() -> None:
    board = board_from_state(wall_state(), NOW)
    assert [(p.id, p.votes) for p in board.ranking] == [("P2", 6), ("P1", 4), ("P10", 4), ("P3", 0)]
    assert [p.share for p in board.ranking] == pytest.approx([6 / 14, 4 / 14, 4 / 14, 0.0])
    first = board.ranking[0]
    assert (first.title, first.kiosk, first.colour, first.late) == ("Bench", None, PHONES_COLOUR, False)
    p1, p10 = board.proposal("P1"), board.proposal("P10")
    assert p1 is not None and p10 is not None
    assert (p1.kiosk, p1.colour, p1.kpis, len(p1.interventions)) == ("k1", KIOSK_COLOURS[0], {"shade_pct": 1.5}, 1)
    assert (p10.colour, p10.late) == (KIOSK_COLOURS[1], True)


def test_votes_sum_over_every_proposal_question() -> None:
    state = wall_state()
    state["questions"] = [*state["questions"], {"id": "runner-up", "kind": "proposal", "text": {"en": "Second?"},
                                                "options": []}]
    state["tallies"] = {**state["tallies"], "runner-up": {"P1": 5, "P2": 0, "P10": 1, "P3": 2}}
    board = board_from_state(state, NOW)
    assert [(p.id, p.votes) for p in board.ranking] == [("P1", 9), ("P2", 6), ("P10", 5), ("P3", 2)]
    assert sum(p.share for p in board.ranking) == pytest.approx(1.0)
    assert board.ranking[0].share == pytest.approx(9 / 22)


def test_question_tallies_have_labels_counts_and_totals() -> None:
    board = board_from_state(wall_state(), NOW)
    assert [q.id for q in board.questions] == ["priority", "street-score", "best-proposal"]
    priority, score, best = board.questions
    assert [(r.key, r.label, r.count) for r in priority.rows] == [
        ("shade", {"en": "Shade", "fi": "Varjoa"}, 5), ("quiet", {"en": "Quiet"}, 3)]
    assert (priority.kind, priority.total, board.text(priority.text, "fi")) == ("choice", 8, "Mitä ensin?")
    assert [(r.key, r.label, r.count) for r in score.rows] == [
        ("1", {"en": "1"}, 0), ("2", {"en": "2"}, 1), ("3", {"en": "3"}, 2), ("4", {"en": "4"}, 4),
        ("5", {"en": "5"}, 1)]
    assert score.total == 8
    assert [(r.key, r.label["en"], r.count) for r in best.rows] == [
        ("P1", "Trees", 4), ("P2", "Bench", 6), ("P10", "Late idea", 4), ("P3", "Nothing yet", 0)]
    assert best.total == 14


def test_header_round_timer_counts_and_kiosks() -> None:
    board = board_from_state(wall_state(), NOW)
    assert (board.code, board.rev, board.phase, board.locked) == ("HEL234", 42, "vote", False)
    assert (board.round_index, board.round_count) == (3, 3)
    assert board.timer_left_s == pytest.approx(150.5)
    assert board.current_question == "best-proposal"
    assert board.counts == {"participants": 12, "kiosks": 2, "proposals": 4, "votes": 22}
    assert board.kiosks == [{"id": "k1", "name": "Library", "colour": KIOSK_COLOURS[0], "revoked": False},
                            {"id": "k2", "name": "Café", "colour": KIOSK_COLOURS[1], "revoked": True}]
    assert board.area_m == tuple(AREA)
    assert (board.text(board.title, "fi"), board.text(board.title, "sv")) == ("Vihreämpi keskusta",
                                                                                "A greener centre")


@pytest.mark.parametrize(("phase", "index"), [("lobby", 0), ("explore", 1), ("propose", 2), ("vote", 3),
                                              ("reveal", 0), ("closed", 0)])
def test_round_numbers(phase: str, index: int) -> None:
    board = board_from_state(wall_state(phase=phase), NOW)
    assert (board.round_index, board.round_count) == (index, len(ROUND_PHASES))


def test_timer_floors_at_zero_and_is_none_without_one() -> None:
    assert board_from_state(wall_state(), NOW + timedelta(minutes=10)).timer_left_s == 0.0
    assert board_from_state(wall_state(timer_ends_at=None), NOW).timer_left_s is None
    # A naive `now` is read as UTC.
    assert board_from_state(wall_state(), NOW.replace(tzinfo=None)).timer_left_s == pytest.approx(150.5)


def test_public_view_without_tallies_counts_zero() -> None:
    state = wall_state(tallies=None)
    del state["kiosks"]
    board = board_from_state(state, NOW)
    assert [(p.id, p.votes, p.share) for p in board.ranking] == [("P1", 0, 0.0), ("P2", 0, 0.0), ("P3", 0, 0.0),
                                                                 ("P10", 0, 0.0)]
    assert all(q.total == 0 and all(r.count == 0 for r in q.rows) for q in board.questions)
    assert [len(q.rows) for q in board.questions] == [2, 5, 4]
    assert board.kiosks == []
    assert board.consensus.max_support == 0.0 and board.consensus.cells() == []


def test_lobby_state_without_proposals() -> None:
    board = board_from_state(wall_state(phase="lobby", proposals=[], tallies={}, timer_ends_at=None), NOW)
    assert board.ranking == [] and board.questions[2].rows == []
    assert board.consensus.support.shape == (50, 50)


def test_board_consensus_follows_the_votes() -> None:
    board = board_from_state(wall_state(), NOW)
    # P1's tree in cell (0, 0), P2's bench in (0, 2), P10's tree in (0, 4) at 20 m cells.
    assert board.consensus.cells() == [(-500.0, -500.0, -480.0, -480.0, 4.0), (-460.0, -500.0, -440.0, -480.0, 6.0),
                                       (-420.0, -500.0, -400.0, -480.0, 4.0)]
    coarse = board_from_state(wall_state(), NOW, cell_m=100.0)
    assert coarse.consensus.cells() == [(-500.0, -500.0, -400.0, -400.0, 14.0)]


def test_summary_is_json() -> None:
    summary = board_summary(board_from_state(wall_state(), NOW))
    assert json.loads(json.dumps(summary)) == summary
    assert summary["rev"] == 42 and summary["phase"] == "vote" and summary["locked"] is False
    assert summary["counts"]["votes"] == 22
    assert summary["tallies"]["best-proposal"] == {"P1": 4, "P2": 6, "P10": 4, "P3": 0}
    assert summary["tallies"]["street-score"]["4"] == 4
    assert summary["ranking"] == [{"id": "P2", "votes": 6}, {"id": "P1", "votes": 4}, {"id": "P10", "votes": 4},
                                  {"id": "P3", "votes": 0}]


def test_text_falls_back_to_english_then_first() -> None:
    assert text_in({"en": "Shade", "fi": "Varjo"}, "fi") == "Varjo"
    assert text_in({"en": "Shade", "fi": "Varjo"}, "de") == "Shade"
    assert text_in({"sv": "Skugga"}, "de") == "Skugga"
    assert text_in(None, "en") == ""


# -- consensus -------------------------------------------------------------------------------------------
def square(x0: float, y0: float, size_m: float, catalog: str = "park") -> dict[str, Any]:
    ring = [[x0, y0], [x0 + size_m, y0], [x0 + size_m, y0 + size_m], [x0, y0 + size_m], [x0, y0]]
    return {"catalog": catalog, "geometry": {"type": "Polygon", "coordinates": [ring]}, "params": {}}


def test_consensus_overlap_sums_and_disjoint_cells_keep_their_own() -> None:
    # Grid 0..100 m at 20 m. P1 covers cells (row 0, cols 0-1); P2 covers (0, 1) and (0, 2).
    proposals = [{"id": "P1", "interventions": [square(2, 2, 30)]},
                 {"id": "P2", "interventions": [square(25, 5, 10), tree(50, 10)]}]
    grid = consensus(proposals, {"P1": 3, "P2": 5}, (0, 0, 100, 100), cell_m=20.0)
    expected = np.zeros((5, 5))
    expected[0, 0], expected[1, 0], expected[0, 1], expected[1, 1] = 3, 3, 3 + 5, 3
    expected[0, 2] = 5
    np.testing.assert_array_equal(grid.support, expected)
    assert grid.max_support == 8.0
    assert (0.0, 0.0, 20.0, 20.0, 3.0) in grid.cells() and (20.0, 0.0, 40.0, 20.0, 8.0) in grid.cells()
    assert len(grid.cells()) == 5


def test_consensus_counts_a_proposal_once_per_cell() -> None:
    proposals = [{"id": "P1", "interventions": [tree(5, 5), tree(12, 12), square(1, 1, 15)]}]
    grid = consensus(proposals, {"P1": 2}, (0, 0, 40, 40), cell_m=20.0)
    assert grid.cells() == [(0.0, 0.0, 20.0, 20.0, 2.0)]


def test_consensus_ignores_edges_unvoted_and_unreadable() -> None:
    # A square exactly on cell (0, 0) shares only edges with its neighbours.
    proposals = [{"id": "P1", "interventions": [square(0, 0, 20)]},
                 {"id": "P2", "interventions": [square(40, 40, 10)]},
                 {"id": "P3", "interventions": [{"catalog": "park", "geometry": {"type": "Polygon"}}, "junk"]},
                 {"id": "P4", "interventions": [square(500, 500, 10)]}]
    grid = consensus(proposals, {"P1": 1, "P3": 7, "P4": 9}, (0, 0, 100, 100), cell_m=20.0)
    assert grid.cells() == [(0.0, 0.0, 20.0, 20.0, 1.0)]


def test_consensus_last_cells_are_clipped_to_the_area() -> None:
    grid = consensus([{"id": "P1", "interventions": [tree(45, 45)]}], {"P1": 1}, (0, 0, 50, 50), cell_m=20.0)
    assert grid.support.shape == (3, 3)
    assert grid.cells() == [(40.0, 40.0, 50.0, 50.0, 1.0)]


def test_intervention_shapes_have_a_visible_footprint() -> None:
    point = intervention_shape(tree(0, 0, "tree-large"))
    line = intervention_shape({"catalog": "bike-lane",
                               "geometry": {"type": "LineString", "coordinates": [[0, 0], [100, 0]]}})
    polygon = intervention_shape(square(0, 0, 10))
    assert point.area == pytest.approx(np.pi * 4.5**2, rel=0.05)
    assert line.area == pytest.approx(100 * 2.0, rel=0.01) and line.bounds == pytest.approx((0, -1, 100, 1))
    assert polygon.area == pytest.approx(100.0)
    assert intervention_shape({"catalog": "park", "geometry": None}).is_empty


# -- colours ---------------------------------------------------------------------------------------------
def test_colours() -> None:
    assert colour_for("k1") == (230, 159, 0) and hex_colour(colour_for("k1")) == "#e69f00"
    assert colour_for("k2") == KIOSK_COLOURS[1] and colour_for("k8") == KIOSK_COLOURS[0]
    assert colour_for(None) == PHONES_COLOUR and colour_for("") == PHONES_COLOUR
    assert colour_for("table") == colour_for("table") and colour_for("table") in KIOSK_COLOURS
    assert len(set(KIOSK_COLOURS)) == len(KIOSK_COLOURS) and PHONES_COLOUR not in KIOSK_COLOURS
    assert set(LAYER_COLOURS) == {"water", "green", "road", "building"}
