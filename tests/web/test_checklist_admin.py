"""Admin pages for checklist templates: list, show, import a draft, publish."""
import io
import json

from inspection.checklists import load_default
from inspection.extensions import db
from inspection.models import ChecklistVersion


def sign_in_admin(client, form_token):
    token = form_token(client, "/login")
    client.post("/login", data={"username": "admin", "password": "demo1234", "csrf_token": token})


def test_templates_are_listed_and_shown(demo, client, form_token):
    sign_in_admin(client, form_token)
    page = client.get("/admin/checklists").get_data(as_text=True)
    for code in ("cchc-huyen", "cchc-xa-3cap", "cchc-xa-2cap"):
        assert code in page
    version = db.session.query(ChecklistVersion).join(ChecklistVersion.template).filter_by(code="cchc-xa-2cap").one()
    shown = client.get(f"/admin/checklists/{version.id}").get_data(as_text=True)
    assert "Trung tâm Phục vụ hành chính công" in shown
    assert "TTHC.31 &gt;= (TTHC.25 - TTHC.26) + TTHC.29" in shown
    assert "Ban hành phiên bản này" not in shown  # already published


def test_import_a_draft_then_publish_it(demo, client, form_token):
    sign_in_admin(client, form_token)
    document = load_default("cchc-xa-2cap")
    document["version"] = "2026.1"
    data = {"csrf_token": form_token(client, "/admin/checklists"),
            "document": (io.BytesIO(json.dumps(document, ensure_ascii=False).encode()), "xa-2026.json")}
    response = client.post("/admin/checklists", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    draft = db.session.query(ChecklistVersion).filter_by(version="2026.1").one()
    assert not draft.is_published
    page_url = f"/admin/checklists/{draft.id}"
    assert "Ban hành phiên bản này" in client.get(page_url).get_data(as_text=True)
    client.post(f"/admin/checklists/{draft.id}/publish", data={"csrf_token": form_token(client, page_url)})
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
