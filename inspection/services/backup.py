"""Consistent backups of the database, the media folder and the instance's secrets, and
restoring them.

The database is copied first (SQLite's online backup API, or pg_dump), then the media folder.
Media files are content-addressed and never change once written, and a file is stored before
the database row that refers to it is committed, so every file the copied database refers to
is already there when the media folder is copied.

The instance's secret key, its config.py and its PKI folder (the demo CA, its timestamping key
and the people's demo keys) are copied too, listed in the manifest with their SHA-256: without
them a restored instance would make a new demo CA and report every earlier signature as
untrusted, and sessions would end. The backup folder is readable by its owner only (folders
700, files 600): it holds the database's password hashes and these keys.
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

from ..errors import ValidationFailed
from ..extensions import db

MANIFEST = "manifest.json"
INSTANCE_DIR = "instance"
# What of the instance folder a restore needs besides the database and media.
INSTANCE_FILES = ("secret_key", "config.py")
INSTANCE_FOLDERS = ("pki",)
SKIPPED_NAMES = {".lock"}  # the PKI folder's lock file


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


def _instance_files(instance: Path) -> list[Path]:
    """The instance's secret key, config and PKI files that exist, relative to the folder."""
    found = [Path(name) for name in INSTANCE_FILES if (instance / name).is_file()]
    for name in INSTANCE_FOLDERS:
        if (instance / name).is_dir():
            found += sorted(p.relative_to(instance) for p in (instance / name).rglob("*")
                            if p.is_file() and p.name not in SKIPPED_NAMES)
    return found


def _copy_private(source: Path, target: Path) -> None:
    """Copy a file readable by its owner only, into folders likewise."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


def _owner_only(folder: Path) -> None:
    os.chmod(folder, 0o700)
    for path in folder.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def create_backup(target_dir: str | os.PathLike) -> Path:
    """Write database + media + instance secrets + manifest into a new timestamped folder under
    target_dir, readable by its owner only."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    folder = Path(target_dir) / f"backup-{stamp}"
    folder.mkdir(parents=True, mode=0o700)
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
        raise ValidationFailed("Chưa hỗ trợ sao lưu loại cơ sở dữ liệu này.",
                               "Unsupported database.")
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    media = Path(current_app.config["MEDIA_ROOT"])
    files = 0
    if (media / "objects").is_dir():
        shutil.copytree(media / "objects", folder / "media" / "objects")
        files = sum(1 for p in (folder / "media" / "objects").rglob("*") if p.is_file())
    instance = Path(current_app.instance_path)
    instance_files = []
    for relative in _instance_files(instance):
        _copy_private(instance / relative, folder / INSTANCE_DIR / relative)
        instance_files.append({"path": relative.as_posix(),
                               "sha256": _sha256(folder / INSTANCE_DIR / relative)})
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "backend": url.get_backend_name(),
        "database_file": database.name,
        "database_sha256": _sha256(database),
        "schema_revision": revision,
        "media_files": files,
        "instance_files": instance_files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    _owner_only(folder)
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
                               "Not a backup folder (manifest.json missing or "
                               "unreadable).") from exc
    database = folder / manifest["database_file"]
    if _sha256(database) != manifest["database_sha256"]:
        raise ValidationFailed("Tệp cơ sở dữ liệu trong bản sao lưu bị hỏng (sai SHA-256).",
                               "The backup's database file is damaged (SHA-256 mismatch).")
    instance_files = _checked_instance_files(folder, manifest.get("instance_files", []))
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
    instance = Path(current_app.instance_path)
    for relative in instance_files:
        _copy_private(folder / INSTANCE_DIR / relative, instance / relative)
    return manifest


def _checked_instance_files(folder: Path, listed: list[dict]) -> list[Path]:
    """The instance files of the backup, each checked against its SHA-256 and kept inside the
    instance folder; raises ValidationFailed before anything is restored."""
    checked = []
    for entry in listed:
        relative = Path(str(entry.get("path", "")))
        top = relative.parts[0] if relative.parts else ""
        if relative.is_absolute() or ".." in relative.parts or not (
                str(relative) in INSTANCE_FILES or top in INSTANCE_FOLDERS):
            raise ValidationFailed(f"Bản sao lưu ghi một tệp lạ: {relative}.",
                                   f"The backup lists an unexpected file: {relative}.")
        source = folder / INSTANCE_DIR / relative
        if not source.is_file() or _sha256(source) != entry.get("sha256"):
            raise ValidationFailed(
                f"Tệp {relative} trong bản sao lưu bị hỏng hoặc thiếu (sai SHA-256).",
                f"The backup's file {relative} is damaged or missing (SHA-256 mismatch).")
        checked.append(relative)
    return checked
