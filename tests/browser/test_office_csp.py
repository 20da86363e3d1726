"""The pages keep to the Content-Security-Policy of inspection/security.py (default-src 'self';
script-src and style-src 'self': nothing inline). A blocked inline script, style or handler
fails silently — the page just looks or works wrong — so:

- in Chromium, every office page the secretariat, a team leader and a unit representative can
  reach (home, the demo's inspection pages, the overview, the administration, the minutes
  verification), the sign-in page and the field app raise no `securitypolicyviolation`, log no
  console error and throw no page error, and each is served with the policy;
- the templates (and the field app's shell) contain no inline <script>, no style attribute or
  <style> element and no on…= event-handler attribute.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from field_helpers import go_to_item, open_inspection
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import AdminUnit, ChecklistVersion, Inspection, Plan, Trip, User

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo1234"
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
OVERVIEW = ["/overview/", "/overview/ranking", "/overview/inspections", "/overview/recommendations"]


class Complaints:
    """Everything Chromium reports against the pages of a context: CSP violations (read from the
    page after each visit), console errors and uncaught exceptions; and the documents served
    without the policy."""

    def __init__(self, context):
        self.found: list[str] = []
        self.documents = 0
        self.in_flight: set = set()
        context.add_init_script(CSP_PROBE)
        context.on("request", lambda request: self.in_flight.add(request))
        context.on("requestfinished", lambda request: self.in_flight.discard(request))
        context.on("requestfailed", lambda request: self.in_flight.discard(request))
        context.on("response", self._response)
        context.on("page", self.watch)

    def watch(self, page) -> None:
        page.on("console",
                lambda m: m.type == "error" and self.found.append(f"{page.url} console: {m.text}"))
        page.on("pageerror", lambda e: self.found.append(f"{page.url} pageerror: {e}"))

    def _response(self, response) -> None:
        if response.status >= 400:
            self.found.append(f"{response.url} answered {response.status}")
        if response.request.resource_type != "document":
            return
        self.documents += 1
        policy = response.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy or "style-src 'self'" not in policy:
            self.found.append(f"{response.url} served without the policy: {policy!r}")

    def read(self, page) -> None:
        """Collect the violations the current document has seen so far."""
        self.found += [f"{page.url} csp: {v}" for v in page.evaluate("window.__csp || []")]

    def settle(self, page) -> None:
        """Wait for the requests still running (the icon is fetched after `load`): leaving the
        page would abort them, and an aborted download leaves the test server's file open."""
        for _ in range(200):
            if not self.in_flight:
                return
            page.wait_for_timeout(10)
        raise AssertionError(f"requests still running: {[r.url for r in self.in_flight]}")

    def visit(self, page, url: str) -> None:
        self.settle(page)
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        self.read(page)


def sign_in_office(complaints: Complaints, page, base: str, username: str) -> None:
    """Sign in through the office login form, as a person would."""
    complaints.visit(page, base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")
    complaints.read(page)


def sign_out_office(complaints: Complaints, page) -> None:
    """Sign out with the button in the top bar, once the page has finished loading (a response
    still on its way would bring the session cookie back)."""
    complaints.settle(page)
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def demo_ids(live_server) -> dict:
    def read():
        inspections = dict(db.session.execute(
            select(AdminUnit.code, Inspection.id).join(Inspection,
                                                       Inspection.unit_id == AdminUnit.id)).all())
        return {"inspections": inspections,
                "version": db.session.scalar(select(ChecklistVersion.id)
                                             .order_by(ChecklistVersion.id)),
                "section": db.session.scalar(select(ChecklistVersion)
                                             .order_by(ChecklistVersion.id)
                                             ).document["sections"][0]["code"],
                "unitrep": db.session.scalar(select(User.id).where(User.username == "unitrep")),
                "trip": db.session.scalar(select(Trip.id)),
                "plan": db.session.scalar(select(Plan.id))}

    return live_server.query(read)


@pytest.mark.browser
def test_office_pages_raise_no_csp_violation_for_any_role(live_server, context):
    ids = demo_ids(live_server)
    inspections = ids["inspections"]
    assert sorted(inspections) == ["01561", "01567", "048"]
    co_ngan = inspections["01567"]  # approved, minutes signed by leader and unit in the demo
    base = live_server.url
    complaints = Complaints(context)
    page = context.new_page()

    complaints.visit(page, base + "/login")
    complaints.visit(page, base + f"/minutes/verify?inspection={co_ngan}&revision=1")
    pages = {
        "admin": ["/", *(f"/inspections/{i}" for i in inspections.values()), *OVERVIEW,
                  "/admin/users", "/admin/units", "/admin/plans", "/admin/trips",
                  "/admin/checklists",
                  f"/admin/checklists/{ids['version']}", f"/admin/users/{ids['unitrep']}",
                  f"/admin/checklists/{ids['version']}/edit",
                  f"/admin/checklists/{ids['version']}/edit/item/new",
                  f"/admin/checklists/{ids['version']}/preview/{ids['section']}",
                  f"/admin/checklists/compare?new={ids['version']}",
                  "/minutes/verify", "/account", f"/trips/{ids['trip']}",
                  f"/admin/trips/{ids['trip']}",
                  f"/admin/plans/{ids['plan']}"],
        "leader": ["/", *(f"/inspections/{i}" for i in inspections.values()), *OVERVIEW,
                   "/minutes/verify", "/account", f"/trips/{ids['trip']}"],
        "unitrep": ["/", f"/inspections/{co_ngan}", *OVERVIEW, "/minutes/verify", "/account",
                    f"/trips/{ids['trip']}"],
    }
    for username, urls in pages.items():
        sign_in_office(complaints, page, base, username)
        for url in urls:
            complaints.visit(page, base + url)
        if username != "unitrep":
            sign_out_office(complaints, page)
    # The English pages share the templates but not the strings: the representative's again.
    complaints.visit(page, base + "/lang/en?next=/")
    assert page.locator("html").get_attribute("lang") == "en"
    for url in pages["unitrep"]:
        complaints.visit(page, base + url)
    complaints.settle(page)

    assert complaints.documents >= 3 + sum(len(urls) + 2
                                           for urls in pages.values()) + len(pages["unitrep"])
    assert complaints.found == []


@pytest.mark.browser
def test_field_app_raises_no_csp_violation(live_server, context, sign_in):
    complaints = Complaints(context)
    page = sign_in(context, "inspector1")  # /app/, signed in, controlled by its service worker
    complaints.read(page)
    open_inspection(page)
    card = go_to_item(page, "CDDH.01")
    card.get_by_role("button", name="Đạt", exact=True).click()
    card.locator("textarea.note").fill("Kế hoạch số 12/KH-UBND")
    go_to_item(page, "TTHC.20")
    complaints.read(page)
    page.reload()  # the shell from the service worker's cache, with its headers
    page.wait_for_selector("article.item")
    complaints.read(page)

    assert complaints.documents >= 2
    assert complaints.found == []


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_templates_have_nothing_inline_that_the_policy_would_block():
    files = (sorted((ROOT / "inspection" / "templates").rglob("*.html"))
             + [ROOT / "static" / "app" / "index.html"])
    assert len(files) >= 20
    found = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        for name, pattern in (("inline script", INLINE_SCRIPT), ("style", STYLE),
                              ("event handler", HANDLER), ("javascript: URL", JS_URL)):
            found += [f"{path.relative_to(ROOT)}: {name}: "
                      f"{m.group(0)[:80]!r}" for m in pattern.finditer(source)]
    assert found == []
    # The patterns do catch what they are meant to.
    sample = ('<script>x()</script><script type="module" src="/a.js"></script><p style="color:red">'
              '<button class="b" onclick="go()"><a href="javascript:void(0)"><style>p{}</style>')
    assert [len(p.findall(sample)) for p in (INLINE_SCRIPT, STYLE, HANDLER, JS_URL)] == [1, 2, 1, 1]
