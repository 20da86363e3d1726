"""Finding and repairing text already stored that breaks the text rule (services/text.py).

Before the rule existed, an unpaired surrogate sent by a device could reach a JSON column (a
Conflict's proposal, a late submission, an op's answer): SQLite keeps it escaped as ``\\ud800``,
and every page that shows it failed to encode. ``find_bad_stored_text`` reads every text and
JSON column of every table; ``repair_stored_text`` replaces each refused character with U+FFFD.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import JSON, String, Text, select, update

from ..extensions import db
from ..models import AuditEvent
from .text import find_bad_text, repair_data

BATCH = 1000


@dataclass(frozen=True)
class BadText:
    """One stored value that breaks the text rule."""

    table: str
    key: tuple
    column: str
    path: str  # inside a JSON value; "" for a text column
    character: str

    def describe(self) -> str:
        """One line for people: where, and which character."""
        key = ",".join(str(part) for part in self.key)
        where = f"{self.table}[{key}].{self.column}" + (f" → {self.path}" if self.path else "")
        return f"{where}: U+{ord(self.character):04X}"


def _text_columns(table):
    return [c for c in table.columns if isinstance(c.type, String | Text | JSON)]


def find_bad_stored_text() -> Iterator[BadText]:
    """Every stored value, in every table, holding an unpaired surrogate or a noncharacter."""
    for table in db.metadata.sorted_tables:
        columns = _text_columns(table)
        if not columns or not table.primary_key.columns:
            continue
        keys = list(table.primary_key.columns)
        query = select(*keys, *columns).order_by(*keys).execution_options(yield_per=BATCH)
        for row in db.session.execute(query):
            key = tuple(row[:len(keys)])
            for column, value in zip(columns, row[len(keys):], strict=True):
                if value is None:
                    continue
                for path, character in find_bad_text(value):
                    yield BadText(table.name, key, column.name,
                                  "" if isinstance(value, str) else path, character)


def repair_stored_text() -> list[BadText]:
    """Replace every refused character of stored text with U+FFFD; returns what was found.

    Flushes; the caller commits. One audit event records how many values were repaired."""
    found = list(find_bad_stored_text())
    tables = {t.name: t for t in db.metadata.sorted_tables}
    done: set[tuple] = set()
    for bad in found:
        if (bad.table, bad.key, bad.column) in done:
            continue
        done.add((bad.table, bad.key, bad.column))
        table = tables[bad.table]
        keys = list(table.primary_key.columns)
        condition = [column == value for column, value in zip(keys, bad.key, strict=True)]
        value = db.session.execute(select(table.c[bad.column]).where(*condition)).scalar_one()
        db.session.execute(update(table).where(*condition)
                           .values({bad.column: repair_data(value)}))
    if found:
        db.session.add(AuditEvent(action="text.repair", object_type="database", object_id="*",
                                  details={"values": len(done),
                                           "tables": sorted({b.table for b in found})}))
    db.session.flush()
    return found
