"""Every row of every table, to prove that a refused request changed nothing."""
from __future__ import annotations

from inspection.extensions import db


def table_rows() -> dict[str, list[tuple]]:
    """Every row of every table, as the driver returns it (no JSON decoding: this runs around
    every refused write), in primary-key order, read on a connection of its own."""
    with db.engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        return {table.name: connection.exec_driver_sql(
            f"SELECT * FROM {quote(table.name)} ORDER BY "
            + ", ".join(quote(column.name) for column in table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables}
