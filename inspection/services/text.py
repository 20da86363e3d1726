"""Text that people type, made fit to store, show and print.

One rule for every way text comes in (API bodies and queries, office forms, sync ops, upload
metadata, CLI imports): unpaired UTF-16 surrogates and Unicode noncharacters are refused, naming
the field (``check_text``, ``find_bad_text``); control characters are dropped and the rest is
NFC-normalised (``clean_text``). A lone surrogate cannot even be encoded as UTF-8: stored in a
JSON column (escaped as ``\\ud800``) it made every page that shows it fail, and PostgreSQL
refuses it outright.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from ..errors import ValidationFailed

# Surrogates (only unpaired ones reach a Python str from JSON), the 32 noncharacters U+FDD0…FDEF
# and the last two code points of each of the 17 planes.
_BAD = re.compile("[\ud800-\udfff\ufdd0-\ufdef" + "".join(
    chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17)) + "]")


def bad_character(value: str) -> str | None:
    """The first character of ``value`` that no stored text may hold, or None."""
    found = _BAD.search(value)
    return found.group() if found else None


class TextRefused(ValidationFailed):
    """Text holding an unpaired surrogate or a noncharacter, refused with the field's name."""

    code = "invalid_text"

    def __init__(self, field: str, character: str):
        point = f"U+{ord(character):04X}"
        self.field = field
        self.character = point
        super().__init__(
            f"Trường '{field}' chứa ký tự không hợp lệ ({point}); hãy gõ lại nội dung này.",
            f"The field '{field}' holds an invalid character ({point}); type it again.",
            {field: [f"Ký tự không hợp lệ {point} / invalid character {point}"]})


def check_text(value: str | None, field: str) -> None:
    """Refuse (TextRefused, a 422) text with an unpaired surrogate or a noncharacter."""
    if value and (bad := bad_character(value)) is not None:
        raise TextRefused(field, bad)


def find_bad_text(data, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, character) of every string or key in nested JSON-like data that breaks the
    rule; list items are numbered (``ops.3.fields.note``)."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if (bad := bad_character(value)) is not None:
                yield where or "(value)", bad
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                key_text = str(key)
                child = f"{where}.{key_text}" if where else key_text
                if isinstance(key, str) and (bad := bad_character(key)) is not None:
                    yield (where or "(key)"), bad
                    continue
                stack.append((child, item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}.{i}" if where else str(i), item)
                         for i, item in reversed(list(enumerate(value))))


def repair_text(value: str) -> str:
    """``value`` with every refused character replaced by U+FFFD (for text already stored)."""
    return _BAD.sub("\ufffd", value)


def repair_data(data):
    """Nested JSON-like data with refused characters replaced in every string and key."""
    if isinstance(data, str):
        return repair_text(data)
    if isinstance(data, dict):
        return {repair_data(key) if isinstance(key, str) else key: repair_data(value)
                for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [repair_data(item) for item in data]
    return data


def clean_text(value: str | None, *, single_line: bool = False, field: str = "text") -> str:
    """NFC text without control characters; newlines and tabs are kept, or become spaces when
    `single_line` (names, places). Not trimmed. Refuses (TextRefused, naming `field`) unpaired
    surrogates and noncharacters.

    PostgreSQL refuses NUL in text, and control characters have no place on a page or in the
    minutes; the rest of the text is kept as typed.
    """
    check_text(value, field)
    kept = "" if single_line else "\n\t"
    spaced = "\n\r\t" if single_line else ""
    return "".join(ch if ch in kept or unicodedata.category(ch) != "Cc" else " " if ch in spaced
                   else ""
                   for ch in unicodedata.normalize("NFC", value or ""))


def over_limit(text: str, column) -> int | None:
    """The length limit of a String column (`User.full_name`) when `text` exceeds it, else None.

    SQLite stores any length but PostgreSQL refuses it: the check belongs before the database."""
    limit = getattr(column.type, "length", None)
    return limit if limit is not None and len(text) > limit else None
