"""Hostile user text typed into the office forms — HTML and script, reportlab paragraph markup,
entities, template syntax, SQL, bidi and zero-width characters, emoji, decomposed Vietnamese,
NUL and other control characters, a 5,000-character word — is stored cleaned (NFC, no control
characters), shown literally and escaped on every page that shows it, printed literally in the
minutes PDF, and never causes a 5xx (on SQLite and on PostgreSQL, which refuses NUL in text).
A name longer than its column is refused with a 422 that says why, and the form comes back with
the other fields kept.
"""
from __future__ import annotations

import subprocess
import unicodedata
from datetime import date

import pytest
from markupsafe import escape

from inspection.extensions import db
from inspection.models import (
    AdminUnit,
    Finding,
    Inspection,
    Observation,
    Recommendation,
    Trip,
    User,
)

PASSWORD = "demo1234"

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": '"><img src=x onerror=alert(1)>',
    "bold": "<b>đậm</b>",
    "font": "<font size=40>to</font>",
    "para": "<para>",
    "para_end": "</para>",
    "br": "<br/>",
    "link": '<a href="javascript:alert(1)">x</a>',
    "entities": "&amp; &lt; &#x41;",
    "italic": "<i>nghiêng không đóng",
    "rtl": "\u202eđảo chiều",
    "zwj": "người\u200dmáy",
    "nfd": unicodedata.normalize("NFD", "Nguyễn"),
    "controls": "a\x00b\x07c\x1bd\x7fe",
    "sql": "'; DROP TABLE users; --",
    "jinja": "{{7*7}}",
    "jinja_raw": "{% raw %}",
    "emoji": "🇻🇳 👩\u200d💻",  # a flag, and two emoji joined by a zero-width joiner
}
COMBINED = " | ".join(HOSTILE.values())
LONG_WORD = ("Hànhchínhcông" * 400)[:5000]  # 5,000 characters without a space

# Names that fit their columns (200 characters) but carry the worst of the list.
UNIT_NAME = ('Vinh Quý <script>alert(1)</script> <b>đậm</b> "><img src=x '
             'onerror=alert(1)> {{7*7}}\x00')
REP_NAME = ("Nông <i>Thị " + unicodedata.normalize("NFD", "Nguyễn")
            + ' "><img src=x onerror=alert(1)> {{7*7}}\x07')
REP_POSITION = "<font size=40>Chủ tịch</font> <script>alert(1)</script> '; DROP TABLE users; --"
TRIP_NAME = "Đợt <script>alert(1)</script> {{7*7}} {% raw %} \x00kiểm tra"
TRIP_PLACE = '"><img src=x onerror=alert(1)> <para>An Lạc</para>'
TRIP_DECISION = '<a href="javascript:alert(1)">Quyết định</a> &amp; <br/>'

# Markup that must never reach a page unescaped.
RAW_MARKUP = ("<script>alert", "<img src=x", '<a href="javascript', "<b>đậm", "<font size",
              "<para>", "<i>nghiêng", "<i>Thị")


def cleaned(text: str) -> str:
    """What the product stores for a text: NFC, without control characters (newline and tab
    aside), trimmed."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def shown(text: str) -> str:
    """The text as an HTML page must show it: cleaned, then escaped."""
    return str(escape(cleaned(text)))


def printed(text: str) -> str:
    """What the minutes print for a stored text: bidi controls and zero-width characters go too."""
    return cleaned(text).replace("\u202e", "").replace("\u200d", "")


def assert_safe(page: str) -> None:
    """No hostile markup reached the page unescaped, nor a control character."""
    for raw in RAW_MARKUP:
        assert raw not in page, raw
    assert not any(ch in page for ch in "\x00\x07\x1b\x7f")


class Office:
    """One person on the office pages: signed in through the login form, posting forms with
    the CSRF token of their session; no answer may be a server error."""

    def __init__(self, app, form_token, username: str, password: str = PASSWORD):
        self.client = app.test_client()
        signed_in = self.client.post("/login", data={
            "username": username, "password": password,
            "csrf_token": form_token(self.client, "/login")})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
        self.token = form_token(self.client, "/")

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def post(self, url: str, **data):
        response = self.client.post(url, data={**data, "csrf_token": self.token})
        assert response.status_code < 500, (url, response.status_code)
        return response

    def posted(self, url: str, **data) -> str:
        """Post a form whose view redirects with a success message; return the page it leads to."""
        response = self.post(url, **data)
        assert response.status_code == 302, (url, response.status_code,
                                             response.get_data(as_text=True)[:500])
        page = self.page(response.headers["Location"].split("#")[0])
        assert "flash-error" not in page, page[page.find("flash-error"):][:300]
        return page


def pdftotext(path) -> str:
    """The text of a PDF (`pdftotext -layout`) without the page numbers heading pages 2 onwards,
    so that text running over a page break reads on."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.rstrip("\f").split("\f")
    for n, page in enumerate(pages[1:], 2):
        lines = page.splitlines()
        first = next(i for i, line in enumerate(lines) if line.strip())
        assert lines[first].strip() == str(n)
        pages[n - 1] = "\n".join(lines[first + 1:])
    return "\n".join(pages)


def vinh_quy() -> Inspection:
    return next(i for i in db.session.query(Inspection) if i.unit.code == "01561")


@pytest.fixture
def hostile_inspection(demo, app, form_token):
    """Vinh Quý (submitted) after the secretariat renamed the commune and gave it a
    representative, both with hostile names; the leader wrote one finding per hostile string, a
    shortcoming of one long word, a recommendation and observations with all of them; the
    representative wrote the unit's comments. Returns the inspection and the leader's and the
    representative's sessions."""
    admin = Office(app, form_token, "admin")
    admin.posted("/admin/units", code="01561", name=UNIT_NAME, kind="Xã", level="commune",
                 parent_code="048", valid_from="2020-01-01", valid_to="2025-06-30", merged_from="")
    inspection = vinh_quy()
    admin.posted("/admin/users", username="daidien.vq", password="mat-khau-dai", full_name=REP_NAME,
                 position=REP_POSITION, role="unitrep", unit_id=str(inspection.unit_id))

    leader = Office(app, form_token, "leader")
    url = f"/inspections/{inspection.id}"
    for text in HOSTILE.values():
        leader.posted(f"{url}/findings", kind="strength", text=text)
    leader.posted(f"{url}/findings", kind="weakness", text=LONG_WORD)
    leader.posted(f"{url}/recommendations", text=COMBINED, due_on="2021-12-31")
    for item_code, field, value in (("CDDH.01", "note", COMBINED), ("CQS.02", "text", COMBINED),
                                    ("TC.02", "note", LONG_WORD)):
        observation = db.session.query(Observation).filter_by(inspection_id=inspection.id,
                                                               item_code=item_code).one_or_none()
        leader.posted(f"{url}/observations", item_code=item_code, field=field, value=value,
                      version=str(observation.version if observation else 0))

    rep = Office(app, form_token, "daidien.vq", "mat-khau-dai")
    rep.posted(f"{url}/comments", text=COMBINED,
               revision=str(db.session.get(Inspection, inspection.id).revision))
    return db.session.get(Inspection, inspection.id), leader, rep


def test_review_texts_are_stored_clean_and_shown_escaped(hostile_inspection, app, form_token):
    inspection, leader, rep = hostile_inspection
    findings = (db.session.query(Finding).filter_by(inspection_id=inspection.id)
                .order_by(Finding.position).all())
    assert [f.text for f in findings] == [cleaned(t) for t in HOSTILE.values()] + [LONG_WORD]
    texts = dict(zip(HOSTILE, [f.text for f in findings], strict=False))
    assert texts["controls"] == "abcde" and texts["nfd"] == "Nguyễn"  # NFC
    # kept in the data
    assert texts["rtl"] == "\u202eđảo chiều" and texts["zwj"] == "người\u200dmáy"
    assert db.session.query(Recommendation).one().text == cleaned(COMBINED)
    observations = {o.item_code: o
                    for o in db.session.query(Observation).filter_by(inspection_id=inspection.id)}
    assert observations["CDDH.01"].note == cleaned(COMBINED)
    assert observations["CDDH.01"].result == "pass"  # the tablet's result is kept beside the note
    assert observations["CQS.02"].text == cleaned(COMBINED)
    assert observations["TC.02"].note == LONG_WORD
    assert inspection.unit_comments == cleaned(COMBINED)
    assert inspection.unit.name == cleaned(UNIT_NAME)
    rep_user = db.session.query(User).filter_by(username="daidien.vq").one()
    assert (rep_user.full_name, rep_user.position) == (cleaned(REP_NAME), cleaned(REP_POSITION))

    url = f"/inspections/{inspection.id}"
    for who, page in (("leader", leader.page(url)), ("unitrep", rep.page(url)),
                      ("admin", Office(app, form_token, "admin").page(url))):
        assert_safe(page)
        for text in HOSTILE.values():  # each finding is a list item of its own
            assert "<li>" + shown(text) + "\n" in page, (who, text)
        assert page.count(shown(COMBINED)) == 4, who  # recommendation, note, text item, comments
        assert LONG_WORD in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&amp;amp; &amp;lt; &amp;#x41;" in page
        assert "<li>{{7*7}}\n" in page and "<li>{% raw %}\n" in page
        assert shown(UNIT_NAME) in page  # the heading
        assert shown(REP_NAME) in page  # the history: who saved the unit's comments
    assert shown(REP_NAME) in rep.page("/")  # the representative's own name in the top bar

    recommendations = leader.page("/overview/recommendations")
    assert_safe(recommendations)
    assert shown(COMBINED) in recommendations and shown(UNIT_NAME) in recommendations
    inspections = leader.page("/overview/inspections")
    assert_safe(inspections)
    assert shown(UNIT_NAME) in inspections


def test_admin_forms_keep_hostile_names_literal_and_refuse_what_cannot_be_stored(
        demo, app, form_token):
    admin = Office(app, form_token, "admin")
    units = admin.posted("/admin/units", code="01561", name=UNIT_NAME, kind="Xã", level="commune",
                         parent_code="048", valid_from="2020-01-01", valid_to="2025-06-30",
                         merged_from="")
    assert_safe(units)
    assert shown(UNIT_NAME) in units  # in the list and in the confirmation
    assert vinh_quy().unit.name == cleaned(UNIT_NAME)

    an_lac = db.session.query(AdminUnit).filter_by(code="01555").one()
    trip_form = {"plan_id": str(db.session.query(Trip).one().plan_id), "starts_on": "2021-11-02",
                 "ends_on": "2021-11-03", "unit_ids": str(an_lac.id),
                 "leader_id": str(db.session.query(User).filter_by(username="leader").one().id),
                 "member_ids": str(db.session.query(User)
                                   .filter_by(username="inspector1").one().id)}
    trips = admin.posted("/admin/trips", name=TRIP_NAME, place=TRIP_PLACE, decision=TRIP_DECISION,
                         **trip_form)
    assert_safe(trips)
    assert shown(TRIP_NAME) in trips
    trip = db.session.query(Trip).filter(Trip.starts_on == date(2021, 11, 2)).one()
    assert (trip.name, trip.place, trip.decision) == (cleaned(TRIP_NAME), cleaned(TRIP_PLACE),
                                                      cleaned(TRIP_DECISION))
    home = Office(app, form_token, "leader").page("/")
    assert_safe(home)
    assert shown(TRIP_NAME) in home and "{{7*7}} {% raw %}" in home

    users = admin.posted("/admin/users", username="daidien.al", password="mat-khau-dai",
                         full_name=REP_NAME,
                         position=REP_POSITION, role="unitrep", unit_id=str(an_lac.id))
    assert_safe(users)
    assert shown(REP_NAME) in users and shown(REP_POSITION) in users
    rep_id = db.session.query(User).filter_by(username="daidien.al").one().id
    for page in (admin.page(f"/admin/users/{rep_id}"),
                 Office(app, form_token, "daidien.al", "mat-khau-dai").page("/account")):
        assert_safe(page)  # the account pages, and the name in the top bar
        assert shown(REP_NAME) in page and shown(REP_POSITION) in page

    # Too long for the column: a 422 that says why, and the form comes back filled in, escaped.
    refused = admin.post("/admin/users", username="dai.dien2", password="mat-khau-dai",
                         full_name=LONG_WORD, position=REP_POSITION, role="inspector", unit_id="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_safe(page)
    assert "Họ và tên dài quá 200 ký tự" in page
    assert 'value="dai.dien2"' in page and f'value="{escape(REP_POSITION)}"' in page
    assert db.session.query(User).filter_by(username="dai.dien2").count() == 0

    refused = admin.post("/admin/trips", name=LONG_WORD, place=TRIP_PLACE, decision="", **trip_form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_safe(page)
    assert "Tên đợt kiểm tra dài quá 300 ký tự" in page and f'value="{escape(TRIP_PLACE)}"' in page
    assert db.session.query(Trip).count() == 2

    refused = admin.post("/admin/units", code="01555", name=LONG_WORD, kind="Xã", level="commune",
                         parent_code="048", valid_from="2020-01-01", valid_to="2025-06-30",
                         merged_from="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_safe(page)
    assert "tên dài quá 200 ký tự" in page and 'value="01555"' in page
    assert db.session.get(AdminUnit, an_lac.id).name == "An Lạc"

    plan = {"number": "12/KH-UBND", "issuer": TRIP_PLACE, "issued_on": "2021-01-05", "year": "2021",
            "province_id": str(db.session.query(AdminUnit).filter_by(code="04").first().id)}
    refused = admin.post("/admin/plans", title=LONG_WORD, **plan)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_safe(page)
    assert "Trích yếu dài quá 500 ký tự" in page and f'value="{escape(TRIP_PLACE)}"' in page
    plans = admin.posted("/admin/plans", title=TRIP_NAME, **plan)
    assert_safe(plans)
    assert f"<td>{shown(TRIP_NAME)}</td><td>{shown(TRIP_PLACE)}</td>" in plans

    refused = admin.post("/admin/units", code=HOSTILE["script"], name="An Lạc", kind="Xã",
                         level="commune",
                         parent_code="048", valid_from="2020-01-01", valid_to="", merged_from="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_safe(page)
    assert "mã &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; không hợp lệ" in page


def test_units_csv_import_cleans_names_and_rejects_overlong_ones(demo, app, form_token, runner,
                                                                 tmp_path):
    csv = tmp_path / "units.csv"
    quoted = UNIT_NAME.replace('"', '""')
    csv.write_text("code,name,kind,level,parent_code,valid_from,valid_to,merged_from\n"
                   f'01555,"{quoted}",Xã,commune,048,2020-01-01,2025-06-30,\n'
                   f"01573,{LONG_WORD},Xã,commune,048,2020-01-01,2025-06-30,\n", encoding="utf-8")
    result = runner.invoke(args=["import-units", str(csv)])
    assert result.exit_code == 2, result.output
    assert "0 added, 1 updated, 0 unchanged, 1 rejected" in result.output
    assert "dòng / line 3: tên dài quá 200 ký tự" in result.output
    assert db.session.query(AdminUnit).filter_by(code="01555").one().name == cleaned(UNIT_NAME)
    assert db.session.query(AdminUnit).filter_by(code="01573").one().name == "Thị Hoa"
    page = Office(app, form_token, "admin").page("/admin/units?q=01555")
    assert_safe(page)
    assert shown(UNIT_NAME) in page


def test_nul_in_sign_in_and_in_filters_is_refused_or_ignored(demo, app, client, form_token):
    response = client.post("/login", data={"username": "adm\x00in", "password": PASSWORD,
                                           "csrf_token": form_token(client, "/login")})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)
    response = client.post("/api/v1/auth/login",
                           json={"username": "adm\x00in", "password": PASSWORD})
    assert response.status_code == 401

    leader = Office(app, form_token, "leader")
    for url in ("/overview/inspections?unit=V%00", "/overview/recommendations?unit=%00"):
        response = leader.client.get(url)
        assert response.status_code == 422, url
        assert "Giá trị không hợp lệ cho unit" in response.get_data(as_text=True)
    response = leader.client.get("/api/v1/reports/inspections?unit=%00")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"unit": ["String does not match expected pattern."]}
    # The secretariat's unit search drops the control character and finds the unit.
    page = Office(app, form_token, "admin").page("/admin/units?q=Vinh%00%20Qu%C3%BD")
    assert "01561" in page and "01567" not in page


def test_minutes_pdf_prints_hostile_text_literally(hostile_inspection, tmp_path):
    inspection, leader, _ = hostile_inspection
    url = f"/inspections/{inspection.id}"
    leader.posted(url, action="approve", confirm_unanswered="1", reason="Duyệt thử")
    # approved: ranked, in the chart
    ranking = leader.page("/overview/ranking?year=2021&level=commune")
    assert_safe(ranking)
    assert ranking.count(shown(UNIT_NAME)) >= 2
    assert_safe(leader.posted(f"{url}/minutes/build"))
    pdf = leader.client.get(f"/api/v1/inspections/{inspection.id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(pdf.data)
    text = pdftotext(path)
    flat = " ".join(text.split())
    squeezed = "".join(text.split())

    # Each finding is a paragraph of its own: markup is printed as characters, not applied.
    for key in ("script", "img", "bold", "font", "para", "para_end", "br", "link", "entities",
                "italic", "sql", "jinja", "jinja_raw"):
        assert "- " + HOSTILE[key] + " - " in flat, key
    assert "- Nguyễn" in flat and unicodedata.normalize("NFD", "Nguyễn") not in text
    assert "- abcde" in flat
    # Bidi overrides and zero-width characters are left out of the minutes; the letters stay.
    assert "- đảo chiều" in flat and "- ngườimáy" in flat
    assert not any(ch in text for ch in "\u202e\u200d\x00\x07\x1b\x7f")
    # (Emoji are not checked: the bundled Liberation Serif has no glyphs for them; they print
    # blank.)
    # The whole combined text: the recommendation, the text item CQS.02, the unit's comments.
    combined = " | ".join(v for k, v in HOSTILE.items() if k != "emoji")
    assert squeezed.count("".join(printed(combined).split())) == 3
    assert "1. " + printed(combined) in flat  # the recommendation, numbered
    # The long word wraps as the shortcoming; as the note of TC.02 it is too tall for a table
    # row and is printed below the criteria table instead. Nothing is lost.
    assert squeezed.count(LONG_WORD) == 2
    assert "Ghi chú: xem dưới bảng." in flat and "Ghi chú TC.02: Hànhchính" in flat
    # Names: the unit wherever it is named, its representative in part I.
    assert flat.count("UBND xã " + printed(UNIT_NAME)) >= 4
    assert "- " + printed(REP_NAME) + ", " + printed(REP_POSITION) + ";" in flat

    # Poppler draws the first page without a complaint (looked at by eye when this test was
    # written: the header, the title with the unit's name and part I read as plain text).
    drawn = subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path),
                            str(tmp_path / "page")], capture_output=True, text=True, check=True)
    assert drawn.stderr == ""
    assert (tmp_path / "page-1.png").stat().st_size > 10_000
