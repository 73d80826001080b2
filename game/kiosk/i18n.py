"""The kiosk's interface texts in six languages, and numbers and money as each language writes them.

Texts live in ``content/locales/kiosk*.toml`` (the format is documented at the top of
``kiosk.toml``): one table per key, one string per language. :func:`texts` loads every
such file once, checks it (English present, the same ``{placeholders}`` in every
language, no key in two files) and hands back a :class:`Texts`:

>>> texts().t("fi", "place.placed", name="Penkki")
'Penkki sijoitettu.'
>>> texts().t("sv", "no.such.key")
Traceback (most recent call last):
...
KeyError: "no kiosk text 'no.such.key'"

Numbers follow each language's conventions (Unicode CLDR): grouping and decimal marks,
the real minus sign U+2212, and the euro sign where the language puts it:

>>> format_number(33305.2, "en", decimals=1), format_number(33305.2, "de", decimals=1)
('33,305.2', '33.305,2')
>>> format_number(-1.25, "fi", decimals=1, sign=True), format_number(0.01, "en", sign=True)
('−1,2', '±0')
>>> format_eur(1200, "en"), format_eur(1200, "nl")
('€1,200', '€\\xa01.200')

Nothing here imports Panda3D: the session composes its view with these in plain tests.
"""

from __future__ import annotations

import functools
import math
import string
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "LOCALES_DIR", "UI_LANGUAGES", "COMPLETE_LANGUAGES", "I18nError", "Texts", "load_texts", "texts",
    "language_name", "format_number", "format_eur",
]

#: Where the kiosk's locale files live: every ``kiosk*.toml`` in it is read.
LOCALES_DIR = Path(__file__).resolve().parents[2] / "content" / "locales"
#: The languages a citizen can choose, in the order the picker shows them.
UI_LANGUAGES = ("en", "fi", "sv", "nl", "fr", "de")
#: Languages with every text; the others (Swedish) fall back to English key by key.
COMPLETE_LANGUAGES = ("en", "fi", "nl", "fr", "de")
_FALLBACK = "en"
#: Each language's name in itself, as the language picker shows it.
_ENDONYMS = {"en": "English", "fi": "Suomi", "sv": "Svenska", "nl": "Nederlands", "fr": "Français",
             "de": "Deutsch"}
#: (grouping mark, decimal mark) per language, after CLDR: no-break space U+00A0 in
#: Finnish and Swedish, narrow no-break space U+202F in French.
_MARKS = {"en": (",", "."), "fi": ("\u00a0", ","), "sv": ("\u00a0", ","), "nl": (".", ","),
          "fr": ("\u202f", ","), "de": (".", ",")}
_MINUS = "\u2212"
_NBSP = "\u00a0"
#: What a number that is not finite (NaN, infinity) shows: an en dash, "no value".
_NO_VALUE = "–"


class I18nError(Exception):
    """A locale file the kiosk cannot use; the message is one sentence naming the file and key."""


class Texts:
    """Every kiosk text by key and language; build with :func:`load_texts`."""

    def __init__(self, strings: Mapping[str, Mapping[str, str]]) -> None:
        self._strings = MappingProxyType({key: MappingProxyType(dict(by_lang))
                                          for key, by_lang in sorted(strings.items())})

    def t(self, lang: str, key: str, **fmt: Any) -> str:
        """The text ``key`` in ``lang`` with its ``{placeholders}`` filled from ``fmt``.

        English stands in where ``lang`` has no text for ``key`` (or is not a kiosk
        language). :class:`KeyError` for an unknown key or a placeholder not given;
        extra arguments are ignored.
        """
        template = self.raw(lang, key)
        try:
            return template.format(**fmt)
        except KeyError as exc:
            raise KeyError(f"the kiosk text {key!r} needs a value for {{{exc.args[0]}}}") from None

    def raw(self, lang: str, key: str) -> str:
        """The text as written, placeholders unfilled, with :meth:`t`'s fallback."""
        try:
            by_lang = self._strings[key]
        except KeyError:
            raise KeyError(f"no kiosk text {key!r}") from None
        return by_lang.get(lang, by_lang[_FALLBACK])

    def keys(self) -> tuple[str, ...]:
        """Every key, sorted."""
        return tuple(self._strings)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strings)

    def __contains__(self, key: object) -> bool:
        return key in self._strings

    def has(self, lang: str, key: str) -> bool:
        """Whether ``lang`` has a text of its own for ``key`` (no fallback)."""
        return lang in self._strings.get(key, {})


def load_texts(folder: Path = LOCALES_DIR) -> Texts:
    """Read and check every ``kiosk*.toml`` in ``folder``, in name order.

    :class:`I18nError` names the first problem: a file that is not TOML, a key defined
    twice (naming both files), a text without English, in a language the kiosk does
    not offer, empty, or whose placeholders differ from the English ones.
    """
    paths = sorted(folder.glob("kiosk*.toml"))
    if not paths:
        raise I18nError(f"{folder}: there are no kiosk*.toml locale files.")
    strings: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for path in paths:
        for key, by_lang in _read(path):
            if key in sources:
                where = f"twice in {path.name}" if sources[key] == path.name else \
                    f"in both {sources[key]} and {path.name}"
                raise I18nError(f"the kiosk text {key!r} is defined {where}.")
            sources[key] = path.name
            strings[key] = by_lang
    return Texts(strings)


@functools.cache
def texts() -> Texts:
    """The kiosk's texts from :data:`LOCALES_DIR`, loaded on first use."""
    return load_texts()


def language_name(code: str) -> str:
    """The language's name in itself: ``language_name("fi") == "Suomi"``; KeyError if unknown."""
    try:
        return _ENDONYMS[code]
    except KeyError:
        raise KeyError(f"{code!r} is not a kiosk language; expected one of {', '.join(UI_LANGUAGES)}") from None


def format_number(value: float, lang: str, *, decimals: int = 0, sign: bool = False) -> str:
    """``value`` rounded to ``decimals`` places as ``lang`` writes it (English when unknown).

    en ``33,305.2``; fi and sv ``33 305,2`` (no-break space); nl and de ``33.305,2``;
    fr ``33 305,2`` (narrow no-break space). Negative numbers take the minus sign
    U+2212. With ``sign`` a change reads ``+38``, ``−1,2`` or ``±0`` (anything that
    rounds to zero). A value that is not finite shows an en dash.

    >>> format_number(1234567, "fr") == "1\\u202f234\\u202f567"
    True
    >>> format_number(-0.04, "en", decimals=1), format_number(-3, "nl")
    ('0.0', '−3')
    """
    if not math.isfinite(value):
        return _NO_VALUE
    negative, zero, digits = _digits(value, lang, decimals)
    if sign:
        return ("±" if zero else _MINUS if negative else "+") + digits
    return (_MINUS if negative and not zero else "") + digits


def format_eur(value: float, lang: str, *, decimals: int = 0) -> str:
    """An amount in euros as ``lang`` writes it (English when unknown), whole euros by default.

    en ``€1,200``; fi and sv ``1 200 €``; fr ``1 200 €``; de ``1.200 €``; nl ``€ 1.200``.
    The space next to the euro sign is a no-break space, the grouping mark is
    :func:`format_number`'s.

    >>> format_eur(250000, "de"), format_eur(-60, "en")
    ('250.000\\xa0€', '−€60')
    """
    if not math.isfinite(value):
        return _NO_VALUE
    negative, zero, digits = _digits(value, lang, decimals)
    minus = _MINUS if negative and not zero else ""
    if lang == "nl":
        return f"€{_NBSP}{minus}{digits}"
    if lang in ("fi", "sv", "fr", "de"):
        return f"{minus}{digits}{_NBSP}€"
    return f"{minus}€{digits}"


def _digits(value: float, lang: str, decimals: int) -> tuple[bool, bool, str]:
    """(negative, rounds to zero, the magnitude with ``lang``'s marks)."""
    if not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a whole number of places ≥ 0, not {decimals!r}.")
    group, point = _MARKS.get(lang, _MARKS[_FALLBACK])
    plain = f"{abs(value):,.{decimals}f}"
    zero = not any(c in "123456789" for c in plain)
    return value < 0, zero, plain.replace(",", "\0").replace(".", point).replace("\0", group)


def _read(path: Path) -> list[tuple[str, dict[str, str]]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise I18nError(f"{path.name}: cannot be read as TOML ({exc}).") from None
    found: list[tuple[str, dict[str, str]]] = []
    _walk(data, "", path.name, found)
    return found


def _walk(table: dict[str, Any], prefix: str, source: str, found: list[tuple[str, dict[str, str]]]) -> None:
    """Collect the text tables under ``table``: tables of strings only, keyed by language."""
    values = list(table.values())
    if prefix and values and all(isinstance(v, str) for v in values):
        found.append((prefix, _check(prefix, table, source)))
        return
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, dict):
            what = "a text outside any [key] table" if not prefix else \
                "mixed with deeper keys" if isinstance(value, str) else "not a string"
            raise I18nError(f"{source}: {key!r} is {what}.")
        if not value:
            raise I18nError(f"{source}: the kiosk text {key!r} has no texts.")
        _walk(value, key, source, found)


def _check(key: str, by_lang: dict[str, str], source: str) -> dict[str, str]:
    where = f"{source}: the kiosk text {key!r}"
    unknown = sorted(set(by_lang) - set(UI_LANGUAGES))
    if unknown:
        raise I18nError(f"{where} is given in {unknown[0]!r}, which is not one of {', '.join(UI_LANGUAGES)}.")
    if _FALLBACK not in by_lang:
        raise I18nError(f"{where} has no English ({_FALLBACK}) text, which every other language falls back to.")
    expected = _placeholders(key, _FALLBACK, by_lang[_FALLBACK], source)
    for lang, text in by_lang.items():
        if not text.strip():
            raise I18nError(f"{where} is empty in {lang!r}.")
        got = _placeholders(key, lang, text, source)
        if got != expected:
            shown = ", ".join(f"{{{p}}}" for p in sorted(expected)) or "none"
            raise I18nError(f"{where} in {lang!r} must use the English placeholders ({shown}), "
                            f"not {', '.join(f'{{{p}}}' for p in sorted(got)) or 'none'}.")
    return dict(by_lang)


def _placeholders(key: str, lang: str, text: str, source: str) -> frozenset[str]:
    names = set()
    try:
        for _literal, field, spec, conversion in string.Formatter().parse(text):
            if field is None:
                continue
            if not field.isidentifier() or spec or conversion:
                raise ValueError(f"{{{field}}} is not a plain {{name}} placeholder")
            names.add(field)
    except ValueError as exc:
        raise I18nError(f"{source}: the kiosk text {key!r} in {lang!r} has a bad placeholder ({exc}).") from None
    return frozenset(names)
