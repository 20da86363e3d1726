"""A small content-addressed file store for photos, thumbnails and PDFs.

Files live under MEDIA_ROOT as ``objects/ab/abcdef…`` (named by the SHA-256 of their bytes), so
the same bytes are stored once and a stored file never changes. Every write goes to a temporary
file in the same folder tree first and is moved into place with an atomic rename: a reader never
sees half a file, and a crash leaves at most a stray temporary file.

Only this module knows that the store is a folder; an object store (S3 and the like) can replace
it behind the same functions: ``put_file``, ``put_bytes``, ``open``, ``exists``, ``path_for``.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class StorageError(Exception):
    """A storage request that cannot be served (bad key, missing object)."""


def _check_key(sha256: str) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise StorageError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


def sha256_of_file(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    """The SHA-256 of a file, read in chunks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class FileStorage:
    """Content-addressed objects in a folder; also a scratch area for uploads in progress."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # -- layout ---------------------------------------------------------------------------
    @property
    def objects_dir(self) -> Path:
        """The folder of stored objects, by digest."""
        return self.root / "objects"

    @property
    def uploads_dir(self) -> Path:
        """Where resumable uploads collect their bytes (``<id>.part``) before completion."""
        path = self.root / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path_for(self, sha256: str, suffix: str = "") -> Path:
        """Where the object with this digest lives (whether or not it exists yet).

        ``suffix`` names a derived object cached under the same digest (e.g. ``-thumb480.jpg``).
        """
        key = _check_key(sha256)
        if suffix and not re.fullmatch(r"[-.A-Za-z0-9]{1,40}", suffix):
            raise StorageError(f"bad suffix {suffix!r}")
        return self.objects_dir / key[:2] / (key + suffix)

    def exists(self, sha256: str, suffix: str = "") -> bool:
        """Whether the object with this digest (and suffix) is stored."""
        return self.path_for(sha256, suffix).is_file()

    # -- writing --------------------------------------------------------------------------
    def _temp_in(self, folder: Path) -> tuple[int, str]:
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=folder, prefix=".tmp-")

    def _commit(self, temp: str, target: Path) -> None:
        """Move a finished temporary file into place atomically (and durably)."""
        if target.exists():  # same bytes already stored: keep the first copy
            os.unlink(temp)
            return
        os.chmod(temp, 0o640)
        os.replace(temp, target)
        _fsync_dir(target.parent)

    def put_file(self, source: str | os.PathLike | BinaryIO, sha256: str | None = None,
                 move: bool = False) -> str:
        """Store a file (a path or a readable binary stream); returns its SHA-256.

        With ``move=True`` and a path on the same file system (an upload's ``.part`` file), the
        file is renamed into place instead of copied. If ``sha256`` is given it must match the
        bytes, otherwise StorageError is raised and nothing is stored.
        """
        if isinstance(source, str | os.PathLike):
            source = Path(source)
            actual = sha256_of_file(source)
            if sha256 is not None and actual != sha256:
                raise StorageError("SHA-256 does not match the bytes")
            target = self.path_for(actual)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                if move:
                    source.unlink()
                return actual
            fd, temp = self._temp_in(target.parent)
            os.close(fd)
            try:
                if move:
                    os.replace(source, temp)  # same file system: a rename, no copy
                else:
                    shutil.copyfile(source, temp)
                with open(temp, "rb+") as f:
                    os.fsync(f.fileno())
                self._commit(temp, target)
            except BaseException:
                _unlink_quietly(temp)
                raise
            return actual
        # A stream: copy it to a temporary file while hashing.
        fd, temp = self._temp_in(self.objects_dir)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                while block := source.read(CHUNK):
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if sha256 is not None and actual != sha256:
                raise StorageError("SHA-256 does not match the bytes")
            target = self.path_for(actual)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._commit(temp, target)
        except BaseException:
            _unlink_quietly(temp)
            raise
        return actual

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; returns their SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self.put_derived(sha256, "", data)
        return sha256

    def put_derived(self, sha256: str, suffix: str, data: bytes) -> Path:
        """Store bytes derived from an object (a thumbnail) under its digest and a suffix."""
        target = self.path_for(sha256, suffix)
        fd, temp = self._temp_in(target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._commit(temp, target)
        except BaseException:
            _unlink_quietly(temp)
            raise
        return target

    # -- reading --------------------------------------------------------------------------
    def open(self, sha256: str, suffix: str = "") -> BinaryIO:
        """The stored object for reading; StorageError if it is not there."""
        path = self.path_for(sha256, suffix)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no stored object {sha256}{suffix}") from exc


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def get_storage() -> FileStorage:
    """The store configured for the current app (MEDIA_ROOT)."""
    return FileStorage(current_app.config["MEDIA_ROOT"])


# Module-level shortcuts on the current app's store.
def put_file(source, sha256: str | None = None, move: bool = False) -> str:
    """Store a file in the current app's store; its SHA-256."""
    return get_storage().put_file(source, sha256=sha256, move=move)


def put_bytes(data: bytes) -> str:
    """Store bytes in the current app's store; their SHA-256."""
    return get_storage().put_bytes(data)


def open_object(sha256: str, suffix: str = "") -> BinaryIO:
    """Open a stored object for reading."""
    return get_storage().open(sha256, suffix)


def path_for(sha256: str, suffix: str = "") -> Path:
    """Where a stored object is (or would be) in the current app's store."""
    return get_storage().path_for(sha256, suffix)


def exists(sha256: str, suffix: str = "") -> bool:
    """Whether the object with this digest (and suffix) is stored."""
    return get_storage().exists(sha256, suffix)
