"""Creating workshops in a database: the join code and the two tokens the facilitator gets.

``civictwin workshop create`` calls :func:`create_workshop`; the tokens are printed once
and stored only as keyed hashes (:meth:`multiplayer.store.Store.hash_token`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from multiplayer.protocol import new_token
from multiplayer.store import Store
from multiplayer.workshop import Workshop, spec_from_scenario
from world.frame import LocalFrame
from world.package import read_metadata
from world.scenario import load_scenario

__all__ = ["CODE_ALPHABET", "CreatedWorkshop", "create_workshop", "new_code"]

#: Join codes avoid look-alikes (0/O, 1/I/L) so they can be read off a projector.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


@dataclass(frozen=True, slots=True)
class CreatedWorkshop:
    """What the facilitator needs: the join code, the facilitator token (runs the
    workshop) and the view token (a wall that may only watch)."""

    code: str
    facilitator_token: str
    view_token: str
    scenario: str

    def to_json(self) -> dict[str, str]:
        return {"workshop": self.code, "facilitator_token": self.facilitator_token,
                "view_token": self.view_token, "scenario": self.scenario}


def new_code(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A fresh six-character join code not in ``taken``."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def create_workshop(db: Path, scenario: str | Path, *, city: Path | None = None,
                    now: datetime | None = None) -> CreatedWorkshop:
    """Add a workshop for ``scenario`` to the database ``db`` (created if missing).

    Proposals' geometry is in the local metres of the city package ``city`` when given;
    otherwise in a frame centred on the scenario's area (the shipped scenarios are centred
    on their city package's origin).
    """
    loaded = load_scenario(scenario)
    frame = None
    if city is not None:
        meta = read_metadata(city)
        x_m, y_m, z_m = (float(v) for v in meta["origin_m"])
        frame = LocalFrame(str(meta["crs"]), x_m, y_m, z_m)
    spec = spec_from_scenario(loaded, frame)
    store = Store(db, create=True)
    try:
        code = new_code(set(store.workshop_codes()))
        facilitator_token, view_token = new_token(), new_token()
        _, records = Workshop.create(code, spec, store.hash_token(facilitator_token), store.hash_token(view_token),
                                     now or datetime.now(UTC))
        store.write(records)
    finally:
        store.close()
    return CreatedWorkshop(code, facilitator_token, view_token, loaded.id)
