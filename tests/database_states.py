"""Database states built once per run: the demo data, the access matrix's world. The first test
of a backend that asks for a state builds it through the application's own code; later tests get
the same rows, sequence positions and instance files back by plain inserts and file copies."""
from __future__ import annotations

import copy
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text

from inspection.extensions import db


@dataclass
class DatabaseState:
    """What a build left behind: on SQLite a copy of the database file, on PostgreSQL every
    table's rows and the sequences' positions; the files the build wrote into the instance
    folder, and its return value."""

    files: Path
    value: object
    sqlite_copy: Path | None = None
    rows: dict[str, list[dict]] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)


_STATES: dict[tuple[str, str], DatabaseState] = {}
_STATES_FOLDER: list[Path] = []


def database_state(app, name: str, build: Callable[[], object]):
    """Run `build()` (which commits) on the test's empty database the first time a test of this
    backend asks for the state `name`, and remember what it left; every later test gets the same
    rows, sequence positions and instance files back (SQLite: the database file's pages;
    PostgreSQL: plain inserts), which takes a fraction of the build's time. Returns a copy of
    build()'s value. A build that is not deterministic (random ids, the time of day in a row)
    would be frozen at its first run: keep such values out of the tests' expectations, as they
    already must be."""
    key = (db.engine.dialect.name, name)
    instance = Path(app.instance_path)
    assert _database_is_empty(), f"the state {name!r} needs an empty database"
    if key not in _STATES:
        before = _instance_files(instance)
        value = build()
        db.session.remove()
        files = Path(tempfile.mkdtemp(prefix=f"state-{name}-", dir=_states_folder()))
        for relative, stamp in _instance_files(instance).items():
            if before.get(relative) != stamp:
                (files / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(instance / relative, files / relative)
        state = DatabaseState(files, value)
        if db.engine.dialect.name == "sqlite":
            state.sqlite_copy = files.with_suffix(".sqlite")
            _sqlite_backup(db.engine, state.sqlite_copy, into_engine=False)
        else:
            state.rows, state.sequences = _read_database()
        _STATES[key] = state
        return copy.deepcopy(value)
    state = _STATES[key]
    db.session.remove()
    if state.sqlite_copy:
        _sqlite_backup(db.engine, state.sqlite_copy, into_engine=True)
    else:
        _write_database(state.rows, state.sequences)
    shutil.copytree(state.files, instance, dirs_exist_ok=True)
    return copy.deepcopy(state.value)


def _states_folder() -> Path:
    if not _STATES_FOLDER:
        _STATES_FOLDER.append(Path(tempfile.mkdtemp(prefix="inspection-test-states-")))
    return _STATES_FOLDER[0]


def forget_states() -> None:
    """Remove the remembered files (at the end of the run)."""
    for folder in _STATES_FOLDER:
        shutil.rmtree(folder, ignore_errors=True)
    _STATES.clear()


def _instance_files(instance: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(instance)): (path.stat().st_mtime_ns, path.stat().st_size)
            for path in instance.rglob("*") if path.is_file()}


def _sqlite_backup(engine, path: Path, into_engine: bool) -> None:
    """Copy the whole SQLite database (schema and rows, page by page) to the file `path`, or
    from it back into the engine's database."""
    raw = engine.raw_connection()
    other = sqlite3.connect(path)
    try:
        if into_engine:
            other.backup(raw.driver_connection)
        else:
            raw.driver_connection.backup(other)
    finally:
        other.close()
        raw.close()


def _database_is_empty() -> bool:
    holding = [select(table).exists().label(table.name) for table in db.metadata.sorted_tables]
    with db.engine.connect() as conn:
        return not any(conn.execute(select(*holding)).one())


def _read_database() -> tuple[dict[str, list[dict]], dict[str, int]]:
    rows, sequences = {}, {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [dict(row._mapping)
                                for row in conn.execute(select(table).order_by(*order))]
        if conn.dialect.name == "postgresql":
            sequences = dict(conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL")).all())
    return rows, sequences


def _write_database(rows: dict[str, list[dict]], sequences: dict[str, int]) -> None:
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
        for sequence, position in sequences.items():
            conn.execute(text("SELECT setval(:sequence, :position)"),
                         {"sequence": f'"{sequence}"', "position": position})


def load_demo(app) -> None:
    """The demo data of DESIGN §6 (`flask seed-demo` without the signed minutes)."""
    database_state(app, "demo", _seed_demo)


def _seed_demo() -> None:
    from inspection.services.demo import seed_demo

    seed_demo(with_minutes=False)  # minutes tests build and sign their own
    db.session.commit()
