"""Consistent backups of the database and the media folder, and restoring them.

The database is copied first (SQLite's online backup API, or pg_dump), then the media folder.
Media files are content-addressed and never change once written, and a file is stored before
the database row that refers to it is committed, so every file the copied database refers to
is already there when the media folder is copied.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..extensions import db
from .errors import ValidationFailed

MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(url) -> tuple[list[str], dict]:
    """pg_dump/pg_restore arguments for a SQLAlchemy URL (password passed by environment)."""
    args = ["-U", url.username or "postgres", "-d", url.database]
    host = url.query.get("host") or url.host
    if host:
        args += ["-h", host]
    port = url.query.get("port") or url.port
    if port:
        args += ["-p", str(port)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def create_backup(target_dir: str | os.PathLike) -> Path:
    """Write database + media + manifest into a new timestamped folder under target_dir."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    folder = Path(target_dir) / f"backup-{stamp}"
    folder.mkdir(parents=True)
    if url.get_backend_name() == "sqlite":
        database = folder / "database.sqlite3"
        source = sqlite3.connect(url.database)
        dest = sqlite3.connect(database)
        try:
            source.backup(dest)  # a consistent snapshot even while the app writes
        finally:
            dest.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        database = folder / "database.pgdump"
        args, env = _pg_env(url)
        subprocess.run(["pg_dump", "-Fc", "-f", str(database), *args], check=True, env=env,
                       capture_output=True)
    else:
        raise ValidationFailed("Chưa hỗ trợ sao lưu loại cơ sở dữ liệu này.", "Unsupported database.")
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    media = Path(current_app.config["MEDIA_ROOT"])
    files = 0
    if (media / "objects").is_dir():
        shutil.copytree(media / "objects", folder / "media" / "objects")
        files = sum(1 for p in (folder / "media" / "objects").rglob("*") if p.is_file())
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "backend": url.get_backend_name(),
        "database_file": database.name,
        "database_sha256": _sha256(database),
        "schema_revision": revision,
        "media_files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


def restore_backup(folder: str | os.PathLike) -> dict:
    """Restore a backup folder into the configured database and media folder.

    Stop the app's workers first: the database is overwritten in place.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ValidationFailed("Thư mục không phải bản sao lưu hợp lệ (thiếu manifest.json).",
                               "Not a backup folder (manifest.json missing or unreadable).") from exc
    database = folder / manifest["database_file"]
    if _sha256(database) != manifest["database_sha256"]:
        raise ValidationFailed("Tệp cơ sở dữ liệu trong bản sao lưu bị hỏng (sai SHA-256).",
                               "The backup's database file is damaged (SHA-256 mismatch).")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["backend"] != url.get_backend_name():
        raise ValidationFailed("Bản sao lưu thuộc loại cơ sở dữ liệu khác.",
                               "The backup is from another kind of database.")
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(database)
        dest = sqlite3.connect(url.database)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    else:
        args, env = _pg_env(url)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(database)],
                       check=True, env=env, capture_output=True)
    media = Path(current_app.config["MEDIA_ROOT"])
    if (folder / "media" / "objects").is_dir():
        shutil.copytree(folder / "media" / "objects", media / "objects", dirs_exist_ok=True)
    return manifest
