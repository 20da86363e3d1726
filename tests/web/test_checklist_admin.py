"""Admin pages for checklist templates: list, show, import a draft, publish."""
import io
import json

from inspection.checklists import load_default
from inspection.extensions import db
from inspection.models import AuditEvent, ChecklistUpload, ChecklistVersion


def sign_in_admin(client, form_token):
    token = form_token(client, "/login")
    client.post("/login", data={"username": "admin", "password": "demo1234", "csrf_token": token})


def test_templates_are_listed_and_shown(demo, client, form_token):
    sign_in_admin(client, form_token)
    page = client.get("/admin/checklists").get_data(as_text=True)
    for code in ("cchc-huyen", "cchc-xa-3cap", "cchc-xa-2cap"):
        assert code in page
    version = (db.session.query(ChecklistVersion).join(ChecklistVersion.template)
               .filter_by(code="cchc-xa-2cap").one())
    shown = client.get(f"/admin/checklists/{version.id}").get_data(as_text=True)
    assert "Trung tâm Phục vụ hành chính công" in shown
    assert "TTHC.31 &gt;= (TTHC.25 - TTHC.26) + TTHC.29" in shown
    assert "Ban hành phiên bản này" not in shown  # already published


def test_import_a_draft_then_publish_it(demo, client, form_token):
    sign_in_admin(client, form_token)
    document = load_default("cchc-xa-2cap")
    document["version"] = "2026.1"
    data = {"csrf_token": form_token(client, "/admin/checklists"),
            "document": (io.BytesIO(json.dumps(document, ensure_ascii=False).encode()),
                         "xa-2026.json")}
    response = client.post("/admin/checklists", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    draft = db.session.query(ChecklistVersion).filter_by(version="2026.1").one()
    assert not draft.is_published
    page_url = f"/admin/checklists/{draft.id}"
    assert "Ban hành phiên bản này" in client.get(page_url).get_data(as_text=True)
    client.post(f"/admin/checklists/{draft.id}/publish",
                data={"csrf_token": form_token(client, page_url)})
    db.session.refresh(draft)
    assert draft.is_published


def test_an_invalid_file_lists_each_problem_with_its_path(demo, client, form_token):
    sign_in_admin(client, form_token)
    document = load_default("cchc-xa-2cap")
    document["version"] = "2026.2"
    document["sections"][0]["items"][0]["kind"] = "checkbox"
    data = {"csrf_token": form_token(client, "/admin/checklists"),
            "document": (io.BytesIO(json.dumps(document).encode()), "bad.json")}
    response = client.post("/admin/checklists", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "sections[0].items[0].kind" in response.get_data(as_text=True)
    assert db.session.query(ChecklistVersion).filter_by(version="2026.2").count() == 0


def _post_file(client, form_token, data: bytes, filename: str):
    form = {"csrf_token": form_token(client, "/admin/checklists"),
            "document": (io.BytesIO(data), filename)}
    return client.post("/admin/checklists", data=form, content_type="multipart/form-data")


def test_download_a_workbook_edit_it_and_upload_it_as_a_new_draft(demo, client, form_token):
    import openpyxl

    sign_in_admin(client, form_token)
    version = db.session.query(ChecklistVersion).join(ChecklistVersion.template) \
        .filter_by(code="cchc-xa-2cap").one()
    page = client.get(f"/admin/checklists/{version.id}").get_data(as_text=True)
    assert f"/admin/checklists/{version.id}/workbook.xlsx" in page
    download = client.get(f"/admin/checklists/{version.id}/workbook.xlsx")
    assert download.status_code == 200
    assert download.mimetype == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="cchc-xa-2cap-2025.1.xlsx"' in download.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(download.data))
    settings = workbook["cai_dat"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "phien_ban":
            row[1].value = "2026.1"
    out = io.BytesIO()
    workbook.save(out)
    response = _post_file(client, form_token, out.getvalue(), "Bộ chỉ số 2026.xlsx")
    assert response.status_code == 302
    draft = db.session.query(ChecklistVersion).filter_by(version="2026.1").one()
    assert draft.document["sections"] == version.document["sections"]
    listing = client.get("/admin/checklists").get_data(as_text=True)
    assert "Bộ chỉ số 2026.xlsx" in listing and "Đã nhập" in listing


def test_a_refused_workbook_is_kept_with_every_problem_in_place(demo, client, form_token):
    import openpyxl

    sign_in_admin(client, form_token)
    version = db.session.query(ChecklistVersion).join(ChecklistVersion.template) \
        .filter_by(code="cchc-xa-2cap").one()
    workbook = openpyxl.load_workbook(io.BytesIO(
        client.get(f"/admin/checklists/{version.id}/workbook.xlsx").data))
    for row in workbook["cai_dat"].iter_rows(min_row=2):
        if row[0].value == "phien_ban":
            row[1].value = "2026.9"
    workbook["tieu_chi"]["F2"] = "hai"
    workbook["quy_tac"]["C2"] = "=SUM(A1:A3)"
    out = io.BytesIO()
    workbook.save(out)
    sent = out.getvalue()
    versions = db.session.query(ChecklistVersion).count()
    response = _post_file(client, form_token, sent, "<b onclick=x>bo-chi-so.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2 lỗi" in page and "chưa có gì được nhập" in page
    assert "<code>tieu_chi</code>" in page and "diem_toi_da" in page and "F2" in page
    assert "<code>hai</code>" in page and "Không phải là số." in page
    assert "<code>=SUM(A1:A3)</code>" in page and "Ô chứa công thức" in page
    assert "<b onclick" not in page and "&lt;b onclick=x&gt;bo-chi-so.xlsx" in page
    assert db.session.query(ChecklistVersion).count() == versions
    upload = db.session.query(ChecklistUpload).one()
    kept = client.get(f"/admin/checklists/uploads/{upload.id}/file")
    assert kept.data == sent and kept.mimetype == "application/octet-stream"
    assert kept.headers["Content-Disposition"].startswith("attachment;")
    again = client.get(f"/admin/checklists/uploads/{upload.id}").get_data(as_text=True)
    assert "Không phải là số." in again
    assert db.session.query(AuditEvent).filter_by(action="checklist.upload_refused").count() == 1


def test_a_file_that_is_not_a_workbook_is_refused_and_kept(demo, client, form_token):
    sign_in_admin(client, form_token)
    response = _post_file(client, form_token, b"code,name\n01,Cao Bang\n", "donvi.csv")
    assert response.status_code == 422
    assert "không phải bảng tính XLSX" in response.get_data(as_text=True)
    # Over 5 MB (through the service: the test client would spool such a body to a file).
    from inspection.models import User
    from inspection.services.checklists import upload_checklist

    admin = db.session.query(User).filter_by(username="admin").one()
    big = upload_checklist(b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024), "to.xlsx", admin)
    db.session.commit()
    assert big.problems[0]["message_vi"].startswith("Tệp lớn hơn 5 MB (5.242.880 byte)")
    assert client.get(f"/admin/checklists/uploads/{big.id}/file").status_code == 404
    assert "Tệp lớn hơn 5 MB" in client.get(f"/admin/checklists/uploads/{big.id}").get_data(
        as_text=True)
