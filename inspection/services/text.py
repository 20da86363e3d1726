"""Text that people type, made fit to store, show and print."""
from __future__ import annotations

import unicodedata


def clean_text(value: str | None, *, single_line: bool = False) -> str:
    """NFC text without control characters; newlines and tabs are kept, or become spaces when
    `single_line` (names, places). Not trimmed.

    PostgreSQL refuses NUL in text, and control characters have no place on a page or in the
    minutes; the rest of the text is kept as typed.
    """
    kept = "" if single_line else "\n\t"
    spaced = "\n\r\t" if single_line else ""
    return "".join(ch if ch in kept or unicodedata.category(ch) != "Cc" else " " if ch in spaced else ""
                   for ch in unicodedata.normalize("NFC", value or ""))


def over_limit(text: str, column) -> int | None:
    """The length limit of a String column (`User.full_name`) when `text` exceeds it, else None.

    SQLite stores any length but PostgreSQL refuses it: the check belongs before the database."""
    limit = getattr(column.type, "length", None)
    return limit if limit is not None and len(text) > limit else None
