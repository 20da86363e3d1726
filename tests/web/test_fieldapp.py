"""The field app's shell, manifest and service worker as the server hands them out."""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from inspection.web.fieldapp import build_precache, module_graph

STATIC = Path(__file__).resolve().parents[2] / "static"
# Modules that must stay free of DOM code, so they can be imported and tested on their own.
NO_DOM_MODULES = ["db.js", "outbox.js", "sync.js", "store.js", "api.js", "tus.js", "drafts.js",
                  "checks.js", "i18n.js", "retention.js", "verifier.js"]


def worker_constants(source: str) -> tuple[str, list[str]]:
    version = re.search(r'^const VERSION = "([^"]+)";$', source, re.MULTILINE).group(1)
    precache = json.loads(re.search(r"^const PRECACHE = (\[.*\]);$", source, re.MULTILINE).group(1))
    return version, precache


def test_the_shell_is_served_at_app_without_a_session(client):
    response = client.get("/app/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html
    assert '<script type="module" src="/static/js/app.js"></script>' in html
    assert client.get("/app").headers["Location"].endswith("/app/")


def test_the_shell_has_no_inline_script_or_style_the_csp_would_block():
    html = (STATIC / "app" / "index.html").read_text(encoding="utf-8")
    assert " style=" not in html and "<style" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_the_worker_is_versioned_by_content_and_precaches_the_whole_shell(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    version, precache = worker_constants(response.get_data(as_text=True))
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    modules = {f"/static/js/{p.relative_to(STATIC / 'js').as_posix()}"
               for p in (STATIC / "js").rglob("*.js")}
    app_modules = {url for url in precache if url.startswith("/static/js/")}
    assert {"/static/js/app.js", "/static/js/rules.js",
            "/static/js/ui/inspection.js"} <= app_modules
    assert app_modules <= modules
    assert {"/app/", "/app/manifest.webmanifest", "/static/app/app.css",
            "/static/icons/icon-192.png", "/static/icons/icon-512.png",
            "/static/icons/icon-maskable-512.png"} <= set(precache)
    for url in precache:  # a missing file would make the worker's install fail on every device
        answer = client.get(url)
        answer.close()
        assert answer.status_code == 200, url


def test_every_module_the_app_imports_is_in_the_precache():
    graph = module_graph(STATIC, "js/app.js")
    for relative in graph:
        source = (STATIC / relative).read_text(encoding="utf-8")
        for target in re.findall(r"""import\s*\(?\s*(?:[^'"]*?from\s*)?["']([^"']+)["']""", source):
            resolved = ((STATIC / relative).parent.joinpath(target).resolve()
                        .relative_to(STATIC.resolve()))
            assert resolved.as_posix() in graph, f"{relative} imports {target}"


def test_javascript_and_css_are_served_minified_and_revalidated(client):
    source = (STATIC / "js" / "store.js").read_bytes()
    response = client.get("/static/js/store.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    served = response.get_data()
    # Comments and indentation gone, the code kept: what tablets download and precache shrinks.
    assert len(served) < 0.8 * len(source)
    assert b"\n  " not in served and b"/**" not in served
    assert b"export" in served
    again = client.get("/static/js/store.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    css = client.get("/static/app/app.css")
    assert css.mimetype == "text/css"
    assert len(css.get_data()) < (STATIC / "app/app.css").stat().st_size
    icon = client.get("/static/icons/icon-192.png")
    assert icon.get_data() == (STATIC / "icons/icon-192.png").read_bytes()
    icon.close()
    assert client.get("/static/js/no-such-module.js").status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js checks the minified modules")
def test_every_precached_module_is_still_valid_javascript_once_minified(client):
    import subprocess

    for relative in module_graph(STATIC, "js/app.js"):
        served = client.get(f"/static/{relative}").get_data(as_text=True)
        check = subprocess.run(["node", "--check", "--input-type=module"], input=served,
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, f"{relative}: {check.stderr}"


def test_the_version_changes_with_any_precached_byte_and_only_then(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    first = build_precache(static)
    assert build_precache(static).version == first.version  # deterministic
    (static / "css" / "office.css").write_text("/* office pages are not precached */")
    assert build_precache(static).version == first.version
    rules = static / "js" / "rules.js"
    rules.write_bytes(rules.read_bytes() + b"\n")
    assert build_precache(static).version != first.version


def test_the_manifest_makes_an_installable_vietnamese_app(client):
    response = client.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "Kiểm tra CCHC"
    assert manifest["lang"] == "vi"
    assert (manifest["start_url"], manifest["scope"],
            manifest["display"]) == ("/app/", "/app/", "standalone")
    assert manifest["theme_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        data = png.data
        png.close()
        assert png.status_code == 200 and png.mimetype == "image/png"
        with Image.open(io.BytesIO(data)) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes[icon["purpose"], icon["sizes"]] = icon["src"]
    assert {("any", "192x192"), ("any", "512x512"), ("maskable", "512x512")} <= set(sizes)


@pytest.mark.parametrize("module", NO_DOM_MODULES)
def test_queue_and_data_modules_never_touch_the_dom(module):
    source = (STATIC / "js" / module).read_text(encoding="utf-8")
    code = re.sub(r"//.*|/\*.*?\*/", "", source, flags=re.DOTALL)
    assert not re.search(r"\b(document|window|HTMLElement|querySelector)\b", code), module


def test_views_never_parse_html_from_data():
    for path in (STATIC / "js").rglob("*.js"):
        code = re.sub(r"//.*|/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        assert "innerHTML" not in code and "insertAdjacentHTML" not in code, path.name
