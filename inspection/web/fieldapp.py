"""The field app (/app/): an installable offline PWA for inspectors on tablets.

The app itself is static (static/app/index.html, static/js/, static/app/app.css); this blueprint
serves its shell, its manifest, and its service worker from /app/ so that the worker's scope is
/app/. The worker's VERSION and PRECACHE list are written into it here, at request time: VERSION
is a hash of the bytes of every precached file, so any change to the app shell makes a new
worker with a new cache, and nobody has to remember to bump a number.

JavaScript and CSS under static/ are served minified (tdewolff's minifiers: comments and spaces
removed, local names shortened, the exports and strings unchanged), computed once per file
version: the sources stay commented for people, and what a tablet downloads and keeps is about
half the size.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import minify
from flask import Blueprint, Response, abort, current_app, redirect, request
from werkzeug.security import safe_join

bp = Blueprint("fieldapp", __name__)

SHELL = "app/index.html"
MANIFEST = "manifest.webmanifest"
WORKER = "sw.js"
ENTRY = "js/app.js"
STYLES = ("app/app.css",)
ICONS_DIR = "icons"

# Static and dynamic imports of relative module paths: `from "./x.js"`, `import "./x.js"`,
# `import("./x.js")`. The app's modules follow this form (no bare specifiers, no build step).
IMPORT_RE = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+\.js)["']""")
VERSION_MARK = 'const VERSION = "__VERSION__";'
PRECACHE_MARK = 'const PRECACHE = ["__PRECACHE__"];'
NO_CACHE = {"Cache-Control": "no-cache"}
MINIFIED_TYPES = {".js": "text/javascript", ".css": "text/css"}
MINIFIERS = f"tdewolff-minify {package_version('tdewolff-minify')}"


@dataclass(frozen=True)
class Precache:
    """What the service worker stores on install: URL → file, and a hash of all their bytes."""

    files: dict[str, Path]
    version: str


_precache: dict[str, Precache] = {}
_lock = threading.Lock()


def module_graph(static_dir: Path, entry: str) -> list[str]:
    """Every module reachable from `entry` by relative imports, as paths under static/, sorted.

    Only what the app really loads is precached: other scripts that office pages keep in
    static/js/ neither bloat the device's cache nor force a new version when they change.
    """
    seen: set[str] = set()
    pending = [entry]
    while pending:
        relative = pending.pop()
        if relative in seen:
            continue
        seen.add(relative)
        source = (static_dir / relative).read_text(encoding="utf-8")
        base = Path(relative).parent
        for target in IMPORT_RE.findall(source):
            resolved = (static_dir / base / target).resolve().relative_to(static_dir.resolve())
            pending.append(resolved.as_posix())
    return sorted(seen)


def build_precache(static_dir: Path) -> Precache:
    """The precache list and its version hash (the hash covers every file's URL and bytes)."""
    static_dir = Path(static_dir)
    files: dict[str, Path] = {
        "/app/": static_dir / SHELL,
        "/app/manifest.webmanifest": static_dir / MANIFEST,
    }
    for relative in (*STYLES, *module_graph(static_dir, ENTRY)):
        files[f"/static/{relative}"] = static_dir / relative
    for icon in sorted((static_dir / ICONS_DIR).glob("*.png")):
        files[f"/static/{ICONS_DIR}/{icon.name}"] = icon
    digest = hashlib.sha256(MINIFIERS.encode())  # another minifier may serve other bytes
    # The worker's own code is part of the version too: a fix to it must also renew the cache.
    for url, path in [*files.items(), ("/app/sw.js", static_dir / WORKER)]:
        digest.update(url.encode() + b"\0" + path.read_bytes() + b"\0")
    return Precache(files=files, version=digest.hexdigest()[:16])


def precache_for(static_dir: str) -> Precache:
    """The precache of a static folder, computed once per process (files change on deploy)."""
    with _lock:
        if static_dir not in _precache:
            _precache[static_dir] = build_precache(Path(static_dir))
        return _precache[static_dir]


@functools.lru_cache(maxsize=256)
def _minify(path: str, mtime_ns: int, size: int) -> bytes:
    """The minified bytes of one version of a file (the cache key changes with the file)."""
    source = Path(path).read_text(encoding="utf-8")
    kind = "application/javascript" if path.endswith(".js") else "text/css"
    return minify.string(kind, source).encode("utf-8")


def served_bytes(path: Path) -> bytes:
    """What the server sends for a static file: JavaScript and CSS minified, the rest as is."""
    if path.suffix not in MINIFIED_TYPES:
        return path.read_bytes()
    stat = path.stat()
    return _minify(str(path), stat.st_mtime_ns, stat.st_size)


def static_file(filename: str):
    """The app's static route (`/static/<filename>`): JavaScript and CSS minified and
    revalidated by ETag (no-cache), other files as Flask serves them."""
    suffix = Path(filename).suffix
    if suffix not in MINIFIED_TYPES:
        return current_app.send_static_file(filename)
    path = safe_join(current_app.static_folder, filename)
    if path is None or not Path(path).is_file():
        abort(404)
    response = Response(served_bytes(Path(path)), mimetype=MINIFIED_TYPES[suffix],
                        headers=NO_CACHE)
    response.add_etag()
    return response.make_conditional(request)


def render_worker(source: str, cache: Precache) -> str:
    """The service worker's source with VERSION and PRECACHE filled in."""
    if VERSION_MARK not in source or PRECACHE_MARK not in source:
        raise RuntimeError("static/sw.js lacks the VERSION or PRECACHE line the server fills in")
    return (source.replace(VERSION_MARK, f"const VERSION = {json.dumps(cache.version)};")
            .replace(PRECACHE_MARK, f"const PRECACHE = {json.dumps(list(cache.files))};"))


@bp.get("/app")
def shell_redirect():
    """The field app lives under /app/."""
    return redirect("/app/", code=301)


def small_file(relative: str, mimetype: str) -> Response:
    """A small static file read into memory, revalidated on every use (ETag, no-cache)."""
    data = (Path(current_app.static_folder) / relative).read_bytes()
    response = Response(data, mimetype=mimetype, headers=NO_CACHE)
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/app/")
def shell():
    """The app shell; it needs no session (the app signs in through the API, or works offline)."""
    return small_file(SHELL, "text/html")


@bp.get("/app/sw.js")
def service_worker():
    """The service worker, versioned by the hash of what it precaches; never cached by HTTP."""
    cache = precache_for(current_app.static_folder)
    source = (Path(current_app.static_folder) / WORKER).read_text(encoding="utf-8")
    return Response(render_worker(source, cache), mimetype="text/javascript",
                    headers={**NO_CACHE, "X-Content-Type-Options": "nosniff"})


@bp.get("/app/manifest.webmanifest")
def manifest():
    """The web app manifest (name, icons, start URL and scope /app/)."""
    return small_file(MANIFEST, "application/manifest+json")
