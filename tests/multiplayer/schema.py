"""Validate frames against the protocol's JSON Schema (docs/protocol.schema.json) in tests.

Any test that sends or receives a frame can check it here, so the schema, the parser and
the server are held to the same contract. The schema is read once per test process.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

__all__ = ["SCHEMA_PATH", "check_schema", "defs", "validate"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "protocol.schema.json"


@functools.cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator(kind: str | None) -> Draft202012Validator:
    schema = _schema()
    if kind is not None:
        if kind not in schema["$defs"]:
            raise KeyError(f"docs/protocol.schema.json has no $defs/{kind}")
        # The same document, entered at one definition, so its $refs still resolve.
        schema = {**schema, "$ref": f"#/$defs/{kind}"}
        del schema["oneOf"]
    return Draft202012Validator(schema)


def defs() -> frozenset[str]:
    """The names under ``$defs`` (the message types and their parts)."""
    return frozenset(_schema()["$defs"])


def validate(frame: Mapping[str, Any] | str, kind: str | None = None) -> None:
    """Raise AssertionError with jsonschema's message unless ``frame`` (a dict, or JSON text)
    is a valid frame, or, with ``kind``, valid against ``$defs/<kind>``."""
    instance = json.loads(frame) if isinstance(frame, str) else dict(frame)
    errors = list(_validator(kind).iter_errors(instance))
    if errors:
        worst = best_match(errors)
        where = "/".join(str(p) for p in worst.absolute_path) or "(the frame)"
        target = f"$defs/{kind}" if kind else "the protocol schema"
        raise AssertionError(f"frame does not match {target} at {where}: {_short(worst.message)}\n"
                             f"frame: {_short(repr(instance))}")


def _short(text: str, limit: int = 1000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def check_schema() -> None:
    """Raise jsonschema's SchemaError unless the schema itself is valid draft 2020-12."""
    Draft202012Validator.check_schema(_schema())
