"""Hostile input and load, each class fixed once for every route (issue 12): deep and oversized
JSON, unpaired surrogates and noncharacters, unbounded conflicts, formulas in exports, a busy
SQLite database, sign-in throttling behind a proxy, caching on shared tablets, tus checksums."""
import base64
import csv
import fcntl
import hashlib
import io
import json
import os
import sqlite3
import uuid
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from inspection import create_app
from inspection.extensions import db
from inspection.models import (
    AppliedOp,
    AuditEvent,
    Conflict,
    Finding,
    Inspection,
    Observation,
    Photo,
    User,
)
from inspection.services import photos as photo_service
from inspection.services.export import FORMULA_TRIGGERS
from inspection.services.observations import record_observation
from inspection.services.review import add_recommendation

AT = "2026-03-02T09:15:00+07:00"
SURROGATE = "\ud800"
NONCHARACTER = "\uffff"
FORMULAS = ['=HYPERLINK("http://evil.example","bấm")', "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1"]


def hanoi_district():
    return next(i for i in db.session.query(Inspection) if i.unit.code == "048")


def current_version(inspection_id, item_code) -> int:
    observation = db.session.scalars(select(Observation).where(
        Observation.inspection_id == inspection_id, Observation.item_code == item_code)).first()
    return observation.version if observation else 0


def op(inspection_id, item_code, fields, base=0):
    return {"op_id": str(uuid.uuid4()), "type": "observation.set", "inspection_id": inspection_id,
            "item_code": item_code, "base_version": base, "fields": fields, "at": AT}


def raw_push(client, body: str):
    """A push whose body is sent as written (json.dumps escapes a lone surrogate as \\ud800)."""
    return client.post("/api/v1/sync/push", data=body, content_type="application/json",
                       headers={"X-CSRF-Token": client.csrf})


def app_like(app, folder, **overrides):
    """Another app on the same database as the test's, with some settings changed."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SESSION_COOKIE_SECURE",
            "MEDIA_ROOT", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST")
    return create_app({**{key: app.config[key] for key in keys}, **overrides},
                      instance_path=str(folder))


def office(app, form_token, username):
    client = app.test_client()
    signed_in = client.post("/login", data={"username": username, "password": "demo1234",
                                            "csrf_token": form_token(client, "/login")})
    assert signed_in.status_code == 302
    client.token = form_token(client, "/")
    return client


# -- 1. JSON: nesting depth and body size ------------------------------------------------------

def test_deeply_nested_json_is_a_400_on_every_json_route(demo, client, login):
    deep = "[" * 3000 + "]" * 3000
    shorter = "[" * 1500 + "]" * 1500  # within sign-in's 4 KB, deeper than Python's recursion limit
    anonymous = client.post("/api/v1/auth/login", data=shorter, content_type="application/json")
    assert anonymous.status_code == 400 and anonymous.get_json()["code"] == "json_too_deep"
    leader = login("leader")
    inspection_id = hanoi_district().id
    routes = [rule.rule for rule in leader.application.url_map.iter_rules()
              if rule.rule.startswith("/api/") and "POST" in rule.methods]
    for route in routes:
        url = route.replace("<int:inspection_id>", str(inspection_id)).replace(
            "<int:target_id>", str(inspection_id))
        response = leader.post(url, data=deep, content_type="application/json",
                               headers={"X-CSRF-Token": leader.csrf})
        assert response.status_code < 500, (route, response.status_code)
        if route in ("/api/v1/sync/push", "/api/v1/inspections/<int:inspection_id>/transitions"):
            assert response.get_json()["code"] == "json_too_deep", route
    # Within the limit, nesting is fine (an op's fields are one level below the batch).
    shallow = {"device_id": "t", "ops": [op(inspection_id, "TTHC.22", {"note": "ok"})]}
    assert raw_push(leader, json.dumps(shallow)).status_code == 200


def test_bodies_over_the_routes_limit_are_413_before_being_read(demo, client, login, form_token):
    huge = json.dumps({"username": "a" * 40_000, "password": "x"})
    api = client.post("/api/v1/auth/login", data=huge, content_type="application/json")
    assert api.status_code == 413 and api.get_json()["code"] == "too_large"
    form = client.post("/login", data={"username": "a" * 40_000, "password": "x"})
    assert form.status_code == 413
    leader = login("leader")
    push = raw_push(leader, json.dumps({"device_id": "t", "ops": [], "pad": "x" * (9 << 20)}))
    assert push.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.login_failed")) == 0  # nothing was even checked


# -- 2. One text rule: unpaired surrogates and noncharacters ---------------------------------

def test_a_poisoned_sync_op_is_rejected_alone_and_the_batch_goes_on(demo, login):
    leader = login("leader")
    inspection_id = hanoi_district().id
    bad_note = op(inspection_id, "TTHC.22", {"note": "ghi chú " + SURROGATE})
    bad_key = op(inspection_id, "TTHC.22", {"note" + NONCHARACTER: "x"})
    bad_item = op(inspection_id, "TTHC.2" + SURROGATE, {"note": "x"})
    good = op(inspection_id, "TTHC.23", {"note": "Đúng hạn"})
    response = raw_push(leader, json.dumps({"device_id": "t", "ops": [bad_note, bad_key,
                                                                      bad_item, good]}))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results[:3]] == ["rejected"] * 3
    assert results[3]["status"] in ("applied", "merged")
    assert all(r["reason"] == "invalid_field" for r in results[:3])
    assert "'note'" in results[0]["message"] and "U+D800" in results[0]["message"]
    assert "item_code" in results[2]["message"]
    assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 4
    # A stale base with the same text used to be kept in a Conflict and break the page for good.
    stale = op(inspection_id, "TTHC.23", {"note": "khác " + SURROGATE}, base=0)
    assert raw_push(leader, json.dumps({"device_id": "t2", "ops": [stale]})).get_json()[
        "results"][0]["status"] == "rejected"
    assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0
    assert leader.get(f"/inspections/{inspection_id}").status_code == 200

    device = raw_push(leader, json.dumps({"device_id": "t" + SURROGATE, "ops": [good]}))
    assert device.status_code == 422 and "device_id" in device.get_json()["message"]


def test_api_schemas_queries_and_uploads_refuse_bad_text_naming_the_field(demo, login):
    leader = login("leader")
    inspection_id = hanoi_district().id
    reopen = leader.post(f"/api/v1/inspections/{inspection_id}/transitions",
                         data=json.dumps({"action": "reopen", "reason": "lý do " + SURROGATE}),
                         content_type="application/json", headers={"X-CSRF-Token": leader.csrf})
    assert reopen.status_code == 422
    body = reopen.get_json()
    assert body["code"] == "invalid_text" and "reason" in body["message"]
    assert body["errors"]["json"]["reason"]
    login_body = json.dumps({"username": "leader" + SURROGATE, "password": "demo1234"})
    sign_in = leader.post("/api/v1/auth/login", data=login_body, content_type="application/json")
    assert sign_in.status_code == 422 and "username" in sign_in.get_json()["message"]
    query = leader.get("/api/v1/reports/recommendations?status=open" + "%EF%BF%BF")
    assert query.status_code == 422 and "status" in query.get_json()["message"]

    data = b"\xff\xd8 not even an image"
    meta = {"client_uuid": str(uuid.uuid4()), "inspection_id": str(inspection_id),
            "sha256": hashlib.sha256(data).hexdigest(), "caption": "ảnh " + NONCHARACTER}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    created = leader.post("/api/v1/uploads", headers={
        "Tus-Resumable": "1.0.0", "X-CSRF-Token": leader.csrf, "Upload-Length": str(len(data)),
        "Upload-Metadata": encoded})
    assert created.status_code == 422 and "caption" in created.get_json()["errors"]


def test_office_forms_refuse_bad_text_naming_the_field_and_store_nothing(demo, app, form_token):
    leader = office(app, form_token, "leader")
    inspection_id = hanoi_district().id
    response = leader.post(f"/inspections/{inspection_id}/findings", data={
        "kind": "strength", "text": "Tốt" + NONCHARACTER, "csrf_token": leader.token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "text" in page and "U+FFFF" in page
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    leader.set_cookie("lang", "en")
    english = leader.post(f"/inspections/{inspection_id}/findings", data={
        "kind": "strength", "text": "Tốt" + NONCHARACTER, "csrf_token": leader.token})
    assert "holds an invalid character" in english.get_data(as_text=True)


def test_cli_imports_refuse_bad_text(demo, runner, tmp_path):
    units = tmp_path / "units.csv"
    units.write_text("code,name,kind,level,parent_code,valid_from,valid_to,merged_from\n"
                     f"01999,Xã Thử{NONCHARACTER},Xã,commune,048,2020-01-01,,\n", encoding="utf-8")
    result = runner.invoke(args=["import-units", str(units)])
    assert result.exit_code == 2 and "name" in result.output and "U+FFFF" in result.output
    template = json.loads((Path(__file__).parents[2] / "inspection" / "checklists"
                           / "cchc-xa-2cap.json").read_text(encoding="utf-8"))
    template["version"] = "9.9"
    template["sections"][0]["title_vi"] = "Mục \\ud800"
    checklist = tmp_path / "checklist.json"
    checklist.write_text(json.dumps(template, ensure_ascii=False).replace("\\\\ud800", "\\ud800"),
                         encoding="utf-8")
    result = runner.invoke(args=["import-checklist", str(checklist)])
    assert result.exit_code != 0 and "sections.0.title_vi" in result.output


def test_check_text_finds_and_repairs_text_already_stored(demo, app, login, runner):
    inspection_id = hanoi_district().id
    leader_id = db.session.scalar(select(User.id).where(User.username == "leader"))
    db.session.add(Conflict(inspection_id=inspection_id, item_code="TTHC.22", field="note",
                            base_version=0, current_value={"value": "a", "by": leader_id},
                            incoming_value={"value": "b" + NONCHARACTER, "by": leader_id},
                            incoming_op_id=uuid.uuid4(), author_id=leader_id))
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # how a lone surrogate reached SQLite before the rule
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE conflicts SET current_value = :v"),
                               {"v": '{"value": "a\\ud800", "by": ' + str(leader_id) + "}"})
        with pytest.raises(UnicodeEncodeError):  # the page could not be sent, for everyone
            login("leader").get(f"/inspections/{inspection_id}")
    found = runner.invoke(args=["check-text"])
    assert found.exit_code == 2
    assert "conflicts[" in found.output and "incoming_value" in found.output
    fixed = runner.invoke(args=["check-text", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    db.session.expire_all()
    conflict = db.session.scalars(select(Conflict)).one()
    assert conflict.incoming_value["value"] == "b\ufffd"
    assert runner.invoke(args=["check-text"]).exit_code == 0
    assert login("leader").get(f"/inspections/{inspection_id}").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "text.repair")) == 1


# -- 3. Conflicts bounded per observation field --------------------------------------------

def test_conflicts_on_one_field_keep_the_first_and_latest_and_count_the_rest(demo, app, login,
                                                                           form_token):
    inspection_id = hanoi_district().id
    inspector = login("inspector1")
    version = current_version(inspection_id, "TTHC.22")
    assert raw_push(inspector, json.dumps({"device_id": "a", "ops": [
        op(inspection_id, "TTHC.22", {"value": 2}, base=version)]})).get_json()["results"][0][
        "status"] == "applied"
    answers = []
    for n in range(12):  # twelve devices, each sure of its own figure, from the old base
        answers.append(raw_push(inspector, json.dumps({"device_id": f"dev-{n}", "ops": [
            op(inspection_id, "TTHC.22", {"value": 100 + n}, base=version)]})).get_json()[
            "results"][0])
    assert all(a["status"] == "conflict" for a in answers)
    assert [a.get("folded", {}).get("value", 0) for a in answers] == [0] * 5 + list(range(1, 8))
    kept = db.session.scalars(select(Conflict).order_by(Conflict.id)).all()
    assert [c.incoming_value["value"] for c in kept] == [100, 108, 109, 110, 111]
    assert kept[0].folded == 7 and all(c.folded == 0 for c in kept[1:])
    assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 13  # all recorded
    leader = office(app, form_token, "leader")
    page = leader.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "7 đề xuất khác cho trường này đã được gộp lại" in page
    leader.set_cookie("lang", "en")
    english = leader.get(f"/inspections/{inspection_id}")
    assert "7 more proposals for this field folded" in english.get_data(as_text=True)


# -- 4. Export cells neutralised ------------------------------------------------------------

@pytest.fixture
def formula_texts(demo):
    inspection = hanoi_district()
    leader = db.session.scalars(select(User).where(User.username == "leader")).one()
    for n, formula in enumerate(FORMULAS):
        add_recommendation(inspection, leader, formula, None)
        record_observation(inspection, ["TTHC.22", "TTHC.23", "TTHC.24", "TTHC.25", "TTHC.26",
                                        "TTHC.27"][n], {"note": formula}, leader)
    storage = photo_service.get_storage()
    picture = b"\xff\xd8\xff\xe0" + b"x" * 100
    db.session.add(Photo(client_uuid=uuid.uuid4(), inspection_id=inspection.id,
                         item_code="TTHC.41", sha256=storage.put_bytes(picture), size=104,
                         width=1, height=1, content_type="image/jpeg", caption=FORMULAS[0]))
    db.session.commit()
    return inspection


def assert_no_formula(cells):
    cells = [c for c in cells if isinstance(c, str)]
    assert cells and not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]


def test_csv_exports_and_the_zip_manifest_show_formulas_as_text(formula_texts, app, form_token):
    admin = office(app, form_token, "admin")
    for table in ("recommendations", "observations"):
        body = admin.get(f"/overview/export/{table}.csv").get_data().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        assert_no_formula([cell for row in rows for cell in row])
        assert "'" + FORMULAS[0] in {cell for row in rows for cell in row}  # text as typed
    archive = admin.get(f"/overview/trips/{formula_texts.trip_id}/archive.zip")
    manifest = zipfile.ZipFile(io.BytesIO(archive.get_data())).read("manifest.csv")
    rows = list(csv.reader(io.StringIO(manifest.decode("utf-8-sig"))))
    assert_no_formula([cell for row in rows for cell in row])


def test_xlsx_exports_hold_formulas_as_plain_text_cells(formula_texts, app, form_token):
    admin = office(app, form_token, "admin")
    for table in ("recommendations", "observations"):
        data = admin.get(f"/overview/export/{table}.xlsx").get_data()
        sheet = load_workbook(io.BytesIO(data)).active
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        values = {c.value for c in cells}
        assert FORMULAS[0] in values and "@SUM(A1:A2)" in values  # shown as typed


# -- 5. SQLite busy: 503 with Retry-After, never 500; decoding outside transactions --------

def test_a_push_meeting_a_locked_database_answers_503_and_succeeds_later(demo, app, login):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its row locks (test_sync_merge covers them)")
    app.config["DATABASE_BUSY_WAIT"] = 0.3
    leader = login("leader")
    inspection_id = hanoi_district().id
    base = current_version(inspection_id, "TTHC.22")
    body = json.dumps({"device_id": "t", "ops": [op(inspection_id, "TTHC.22", {"value": 7},
                                                    base=base)]})
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
    try:
        busy = raw_push(leader, body)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert busy.get_json()["code"] == "busy"
    assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 0
    assert raw_push(leader, body).get_json()["results"][0]["status"] == "applied"


def test_postgresql_waits_for_a_row_lock_a_bounded_time_then_answers_503(demo, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time (the test above)")
    short = app_like(demo, tmp_path / "short-wait", DATABASE_BUSY_WAIT=0.3)
    inspection_id = hanoi_district().id
    base = current_version(inspection_id, "TTHC.22")
    body = json.dumps({"device_id": "t", "ops": [op(inspection_id, "TTHC.22", {"value": 7},
                                                    base=base)]})
    client = short.test_client()
    signed_in = client.post("/api/v1/auth/login", json={"username": "leader",
                                                        "password": "demo1234"})
    client.csrf = signed_in.get_json()["csrf_token"]
    try:
        with db.engine.connect() as holder:  # another request holds the inspection's row
            holder.execute(text("SELECT id FROM inspections WHERE id = :id FOR UPDATE"),
                           {"id": inspection_id})
            busy = raw_push(client, body)
            holder.rollback()
        assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
        assert raw_push(client, body).get_json()["results"][0]["status"] == "applied"
    finally:
        with short.app_context():
            db.engine.dispose()


def test_a_completed_photo_is_decoded_with_no_transaction_open(demo, app, login, monkeypatch):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(picture, "PNG")
    data = picture.getvalue()
    seen = []
    decode = photo_service.inspect_image

    def watching(source, *args, **kwargs):
        seen.append(db.session().in_transaction())  # the request's own session
        if db.engine.dialect.name == "sqlite":  # and nobody holds the write lock
            other = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=0)
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
        return decode(source, *args, **kwargs)

    monkeypatch.setattr(photo_service, "inspect_image", watching)
    inspector = login("inspector1")
    location = _create_upload(inspector, data)
    done = _patch(inspector, location, 0, data)
    assert done.status_code == 204 and done.headers["Photo-Id"]
    assert seen == [False]


def test_a_photo_waiting_too_long_to_be_decoded_is_503_then_an_empty_chunk_finishes_it(
        demo, app, login):
    from PIL import Image

    app.config["PHOTO_DECODE_WAIT"] = 0.2
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 10)).save(picture, "PNG")
    data = picture.getvalue()
    inspector = login("inspector1")
    location = _create_upload(inspector, data)
    folder = Path(app.config["MEDIA_ROOT"]) / "uploads"
    slot = os.open(folder / ".decode-0.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(slot, fcntl.LOCK_EX)  # another worker is decoding a big photo
    try:
        busy = _patch(inspector, location, 0, data)
    finally:
        os.close(slot)
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    head = inspector.head(location, headers={"Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == str(len(data)) and "Photo-Id" not in head.headers
    finished = _patch(inspector, location, len(data), b"")
    assert finished.status_code == 204 and finished.headers["Photo-Id"]
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


def _create_upload(client, data: bytes) -> str:
    meta = {"client_uuid": str(uuid.uuid4()), "inspection_id": str(hanoi_district().id),
            "sha256": hashlib.sha256(data).hexdigest(), "filename": "anh.png"}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    created = client.post("/api/v1/uploads", headers={
        "Tus-Resumable": "1.0.0", "X-CSRF-Token": client.csrf, "Upload-Length": str(len(data)),
        "Upload-Metadata": encoded})
    assert created.status_code == 201, created.get_json()
    return created.headers["Location"]


def _patch(client, location, offset, chunk, checksum=None):
    headers = {"Tus-Resumable": "1.0.0", "X-CSRF-Token": client.csrf,
               "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    if checksum:
        headers["Upload-Checksum"] = checksum
    return client.patch(location, data=chunk, headers=headers)


# -- 6. Sign-in throttling: the whole username; client addresses behind a proxy ----------------

def test_failures_for_a_long_username_are_counted(demo, client):
    name = "nguoi-dung-voi-mot-ten-dang-nhap-rat-dai-hon-bon-muoi-ky-tu-" + "x" * 20
    statuses = [client.post("/api/v1/auth/login", json={"username": name, "password": "sai"}
                            ).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_others(demo, client,
                                                                           tmp_path):
    def attempts(app_client, address, count):
        return [app_client.post("/api/v1/auth/login", json={
            "username": f"khong-co-{address}-{n}", "password": "sai"},
            headers={"X-Forwarded-For": address}).status_code for n in range(count)]

    proxied = app_like(demo, tmp_path / "proxied", TRUSTED_PROXIES=1)
    try:
        behind = proxied.test_client()
        assert attempts(behind, "203.0.113.7", 31) == [401] * 30 + [429]
        assert attempts(behind, "198.51.100.9", 1) == [401]  # another client is not locked out
        failure = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.login_failed").order_by(AuditEvent.id.desc())).first()
        assert failure.device_id == "198.51.100.9"
    finally:
        with proxied.app_context():
            db.engine.dispose()
    # Without TRUSTED_PROXIES the header is not believed: the socket's address is counted.
    assert attempts(client, "192.0.2.1", 1) == [401]
    failure = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.login_failed").order_by(AuditEvent.id.desc())).first()
    assert failure.device_id == "127.0.0.1"


# -- 8. Cache-Control ----------------------------------------------------------------------

def test_api_answers_and_signed_in_pages_are_not_stored(demo, app, client, login, form_token):
    anonymous_api = client.get("/api/v1/assignments")
    assert anonymous_api.status_code == 401
    assert anonymous_api.headers["Cache-Control"] == "no-store"
    leader = login("leader")
    assert leader.get("/api/v1/assignments").headers["Cache-Control"] == "no-store"
    assert leader.get("/api/v1/auth/me").headers["Cache-Control"] == "no-store"
    office_leader = office(app, form_token, "leader")
    for url in ("/", f"/inspections/{hanoi_district().id}", "/overview/"):
        response = office_leader.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url
    shell = client.get("/app/")
    assert shell.headers["Cache-Control"] == "no-cache"  # the field app's shell: revalidated
    static = client.get("/static/js/i18n.js")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


# -- 9. tus checksums ----------------------------------------------------------------------

def test_tus_checksums_sha1_accepted_other_algorithms_are_400(demo, login):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(picture, "PNG")
    data = picture.getvalue()
    inspector = login("inspector1")
    location = _create_upload(inspector, data)
    md5 = _patch(inspector, location, 0, data[:10], "md5 " + base64.b64encode(
        hashlib.md5(data[:10]).digest()).decode())
    assert md5.status_code == 400 and md5.get_json()["code"] == "checksum_algorithm"
    wrong = _patch(inspector, location, 0, data[:10], "sha1 " + base64.b64encode(
        hashlib.sha1(b"other").digest()).decode())
    assert wrong.status_code == 460
    right = _patch(inspector, location, 0, data, "sha1 " + base64.b64encode(
        hashlib.sha1(data).digest()).decode())
    assert right.status_code == 204 and right.headers["Photo-Id"]
