"""The checklist editor of the office pages: a draft's parts edited, reordered and deleted with
plain forms; problems shown at their fields with nothing saved; published versions refused;
a new draft (or an extension) from a version; the differences between two versions."""
import re

import pytest
from sqlalchemy import select

from inspection.checklists import load_default
from inspection.extensions import db
from inspection.models import AuditEvent, ChecklistItem, ChecklistVersion, Role
from inspection.services.accounts import create_user
from inspection.services.checklists import import_checklist


@pytest.fixture
def office(app, login):
    """The 2-level commune checklist published as 2025.1 and a draft 2026.1 copied from it, and
    the secretariat's administrator signed in."""
    create_user("admin", "demo1234", "Quản trị", Role.admin, check_strength=False)
    published, _ = import_checklist(load_default("cchc-xa-2cap"), publish=True)
    draft_doc = load_default("cchc-xa-2cap")
    draft_doc["version"] = "2026.1"
    draft, _ = import_checklist(draft_doc)
    db.session.commit()
    client = login("admin")
    return client, published.id, draft.id


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def doc(version_id):
    return db.session.get(ChecklistVersion, version_id).document


def section(document, code):
    return next(s for s in document["sections"] if s["code"] == code)


def codes(document, section):
    return [i["code"] for s in document["sections"] if s["code"] == section for i in s["items"]]


def errors_at(html):
    """The field names that show a problem next to them."""
    return set(re.findall(r'id="err-([a-z_]+)"', html))


def item_form(**changes):
    values = {"code": "TTHC.90", "kind": "yesno",
              "title_vi": "Niêm yết số điện thoại đường dây nóng",
              "title_en": "Hotline number posted", "max_points": "1,5"}
    return {**values, **changes}


def test_add_edit_reorder_and_delete_an_item(office):
    client, _, draft = office
    before = doc(draft)
    scale, section_points = before["scoring"]["scale"], section(before, "TTHC")["max_points"]
    base = f"/admin/checklists/{draft}/edit"
    assert client.get(base).status_code == 200

    added = post(client, f"{base}/item/new", section="TTHC", **item_form())
    assert added.status_code == 302
    after = doc(draft)
    assert codes(after, "TTHC")[-1] == "TTHC.90"
    # The section's points and the scale follow the items (1,5 is one and a half).
    assert section(after, "TTHC")["max_points"] == section_points + 1.5
    assert after["scoring"]["scale"] == scale + 1.5
    assert db.session.scalar(select(ChecklistItem.title_vi).where(
        ChecklistItem.version_id == draft, ChecklistItem.code == "TTHC.90")).startswith("Niêm yết")

    form = client.get(f"{base}/item/TTHC.90").get_data(as_text=True)
    assert 'value="1.5"' in form and "Hotline number posted" in form
    assert post(client, f"{base}/item/TTHC.90", **item_form(max_points="2",
                                                            evidence_hint_vi="Ảnh bảng niêm yết")
                ).status_code == 302
    item = next(i for i in section(doc(draft), "TTHC")["items"] if i["code"] == "TTHC.90")
    assert item["max_points"] == 2 and item["evidence_hint_vi"] == "Ảnh bảng niêm yết"

    order = codes(doc(draft), "TTHC")
    assert post(client, f"{base}/item/TTHC.90/move", direction="up").status_code == 302
    assert codes(doc(draft), "TTHC") == order[:-2] + ["TTHC.90", order[-2]]

    assert post(client, f"{base}/item/TTHC.90/delete").status_code == 302
    assert codes(doc(draft), "TTHC") == order[:-1]
    assert doc(draft)["scoring"]["scale"] == scale
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "checklist_versions", AuditEvent.object_id == str(draft))).all()
    assert actions.count("checklist.edit") == 4


def test_add_and_reorder_a_section_with_its_first_item(office):
    client, _, draft = office
    base = f"/admin/checklists/{draft}/edit"
    response = post(client, f"{base}/section/new", code="BC", title_vi="Bưu chính công ích",
                    title_en="Public postal service", item_code="BC.01", item_kind="yesno",
                    item_title_vi="Có sổ theo dõi hồ sơ qua bưu chính",
                    item_title_en="A register of postal dossiers", item_max_points="2",
                    relevant="TTHC.23 > 0")
    assert response.status_code == 302, response.get_data(as_text=True)
    sections = doc(draft)["sections"]
    assert sections[-1]["code"] == "BC" and sections[-1]["relevant"] == "TTHC.23 > 0"
    assert sections[-1]["order"] == len(sections) and sections[-1]["max_points"] == 2
    asked = client.get(f"{base}/section/BC/delete").get_data(as_text=True)
    assert "Lĩnh vực này có 1 tiêu chí" in asked and "Có sổ theo dõi hồ sơ qua bưu chính" in asked
    post(client, f"{base}/section/BC/move", direction="up")
    sections = doc(draft)["sections"]
    assert sections[-2]["code"] == "BC" and [s["order"] for s in sections] == list(
        range(1, len(sections) + 1))


def test_problems_are_shown_at_their_fields_and_nothing_is_saved(office):
    client, _, draft = office
    base = f"/admin/checklists/{draft}/edit"
    before = doc(draft)
    refused = post(client, f"{base}/item/new", section="TTHC",
                   **item_form(code="TTHC.01", max_points="hai", relevant="TTHC.23 = 0"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert errors_at(html) == {"max_points"}  # what cannot be read is shown first
    assert "Không phải là số" in html and "Chưa lưu" in html
    refused = post(client, f"{base}/item/new", section="TTHC",
                   **item_form(code="TTHC.01", relevant="TTHC.23 = 0"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert errors_at(html) == {"code", "relevant"}
    assert "sai cú pháp tại ký tự" in html  # the rule language's own position
    assert 'value="TTHC.23 = 0"' in html  # what was typed is kept
    # A rule that names an unknown code; deleting an item a rule reads.
    refused = post(client, f"{base}/rule/new", id="R90", severity="error",
                   expr="TTHC.99 > 0", message_vi="Sai", message_en="Wrong")
    assert refused.status_code == 422 and errors_at(refused.get_data(as_text=True)) == {"expr"}
    refused = post(client, f"{base}/item/TTHC.25/delete")
    assert refused.status_code == 422
    assert "TTHC.25" in refused.get_data(as_text=True)
    assert doc(draft) == before


def test_the_editor_speaks_english_too(office):
    client, _, draft = office
    client.get("/lang/en")
    refused = post(client, f"/admin/checklists/{draft}/edit/item/new", section="TTHC",
                   **item_form(max_points="two"))
    html = refused.get_data(as_text=True)
    assert "Not a number" in html and "Không phải là số" not in html
    assert "Maximum points" in html


def test_a_published_version_cannot_be_edited(office):
    client, published, _ = office
    before = doc(published)
    page = client.get(f"/admin/checklists/{published}/edit").get_data(as_text=True)
    assert "không sửa được nữa" in page and "/delete" not in page
    refused = post(client, f"/admin/checklists/{published}/edit/item/TTHC.01",
                   **item_form(code="TTHC.01"))
    assert refused.status_code == 409
    assert "đã ban hành nên không sửa được nữa" in refused.get_data(as_text=True)
    assert post(client, f"/admin/checklists/{published}/edit/item/TTHC.01/delete"
                ).status_code == 409
    assert post(client, f"/admin/checklists/{published}/edit/section/TTHC/move",
                direction="down").status_code == 409
    assert doc(published) == before


def test_a_new_draft_from_a_published_version_then_the_differences(office):
    client, published, _ = office
    made = post(client, f"/admin/checklists/{published}/new-draft", version="2027.1")
    assert made.status_code == 302
    new = db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.version == "2027.1"))
    assert not new.is_published and new.document["sections"] == doc(published)["sections"]
    again = post(client, f"/admin/checklists/{published}/new-draft", version="2027.1")
    assert again.status_code == 422 and "đã có phiên bản 2027.1" in again.get_data(as_text=True)

    base = f"/admin/checklists/{new.id}/edit"
    post(client, f"{base}/item/new", section="TTHC", **item_form())
    yesno = next(i for i in section(doc(new.id), "CDDH")["items"] if i["kind"] == "yesno")
    edited = post(client, f"{base}/item/{yesno['code']}",
                  **{**client_values(client, f"{base}/item/{yesno['code']}"),
                     "max_points": str(yesno["max_points"] + 1)})
    assert edited.status_code == 302
    post(client, f"{base}/recommendation/{doc(new.id)['recommendations'][0]['code']}/delete")
    page = client.get(f"/admin/checklists/compare?old={published}&new={new.id}")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    assert "Thêm tiêu chí TTHC.90" in text
    assert f"Sửa tiêu chí {yesno['code']}" in text and "max_points" in text
    assert "Bỏ kiến nghị mẫu" in text
    assert "Sửa lĩnh vực TTHC" in text and "Sửa lĩnh vực CDDH" in text  # points grew
    assert "scoring.scale" in text


def client_values(client, url):
    """What a part's form holds now (its inputs and text areas)."""
    html = client.get(url).get_data(as_text=True)
    values = dict(re.findall(r'<input name="([a-z_]+)" type="[a-z]+"[^>]* value="([^"]*)"', html))
    values.update(re.findall(r'<textarea name="([a-z_]+)"[^>]*>([^<]*)</textarea>', html))
    values.update(re.findall(r'<select name="([a-z_]+)"[^>]*>.*?<option value="([a-z]+)" selected',
                             html, re.S))
    return {k: v.replace("&#34;", '"').replace("&amp;", "&").replace("&gt;", ">")
            .replace("&lt;", "<").replace("&#39;", "'") for k, v in values.items()}


def test_an_extension_adds_to_its_base_but_cannot_change_it(office):
    client, published, draft = office
    refused = post(client, f"/admin/checklists/{draft}/new-draft", version="1",
                   code="cchc-xa-2cap-tinh")
    assert refused.status_code == 422  # a draft cannot be extended
    made = post(client, f"/admin/checklists/{published}/new-draft", version="2026.1",
                code="cchc-xa-2cap-tinh")
    assert made.status_code == 302
    extension = db.session.scalar(select(ChecklistVersion).join(ChecklistVersion.template)
                                  .where(ChecklistVersion.base_version_id == published))
    assert extension.document["extends"] == {"code": "cchc-xa-2cap", "version": "2025.1"}
    base = f"/admin/checklists/{extension.id}/edit"
    page = client.get(base).get_data(as_text=True)
    assert "bản gốc" in page and "chỉ được bổ sung" in page
    before = extension.document
    for url, data in ((f"{base}/item/TTHC.01", item_form(code="TTHC.01")),
                      (f"{base}/item/TTHC.01/delete", {}),
                      (f"{base}/section/TTHC/delete", {})):
        refused = post(client, url, **data)
        assert refused.status_code == 422, url
        assert "thuộc phiên bản gốc cchc-xa-2cap 2025.1" in refused.get_data(as_text=True)
    moved = post(client, f"{base}/item/TTHC.02/move", direction="up")
    assert moved.status_code == 422 and "giữ thứ tự" in moved.get_data(as_text=True)
    assert doc(extension.id) == before
    # Additions are fine, also inside a base section.
    assert post(client, f"{base}/item/new", section="TTHC", **item_form()).status_code == 302
    assert codes(doc(extension.id), "TTHC")[-1] == "TTHC.90"


def test_a_section_is_previewed_with_the_tablets_own_cards(office):
    client, _, draft = office
    page = client.get(f"/admin/checklists/{draft}/preview/TTHC")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/static/js/preview.js" in html and "/static/app/app.css" in html
    assert re.search(r'"code": ?"TTHC.25"', html)
    assert client.get(f"/admin/checklists/{draft}/preview/NOPE").status_code == 404


def test_rules_recommendations_groups_and_settings_are_edited_too(office):
    client, _, draft = office
    base = f"/admin/checklists/{draft}/edit"
    assert post(client, f"{base}/recommendation/new", code="REC.TTHC.90", section="TTHC",
                items="TTHC.25, TTHC.26", text_vi="Bổ sung sổ theo dõi",
                text_en="Keep a register").status_code == 302
    assert post(client, f"{base}/rule/new", id="R90", severity="warning",
                expr="TTHC.26 <= TTHC.25", defaults="TTHC.26 = 0",
                message_vi="Số đúng hạn không quá tổng số", message_en="On time within total",
                suggests="REC.TTHC.90").status_code == 302
    group = ("HS.NHAN | date | Ngày nhận | Received\n"
             "HS.TRA | date | Ngày trả | Returned | Theo phiếu | As on the slip")
    assert post(client, f"{base}/group/new", code="HS", section="TTHC", title_vi="Hồ sơ mẫu",
                title_en="Sampled dossiers", min="3", max="5", fields=group).status_code == 302
    assert post(client, f"{base}/settings/all", title_vi="Bộ tiêu chí 2026",
                title_en="Index 2026", valid_from="2026-01-01").status_code == 302
    document = doc(draft)
    assert document["rules"][-1] == {
        "id": "R90", "severity": "warning", "expr": "TTHC.26 <= TTHC.25",
        "defaults": {"TTHC.26": 0}, "message_vi": "Số đúng hạn không quá tổng số",
        "message_en": "On time within total", "suggests": ["REC.TTHC.90"]}
    assert document["recommendations"][-1]["items"] == ["TTHC.25", "TTHC.26"]
    [hs] = document["repeats"]
    assert (hs["min"], hs["max"]) == (3, 5)
    assert hs["fields"][1] == {"code": "HS.TRA", "kind": "date", "title_vi": "Ngày trả",
                               "title_en": "Returned", "hint_vi": "Theo phiếu",
                               "hint_en": "As on the slip"}
    assert document["title_vi"] == "Bộ tiêu chí 2026" and document["valid_from"] == "2026-01-01"
    # The group's form shows its fields as they were typed; bounds and fields are checked.
    assert "HS.TRA | date | Ngày trả | Returned | Theo phiếu | As on the slip" in client.get(
        f"{base}/group/HS").get_data(as_text=True)
    refused = post(client, f"{base}/group/HS", code="HS", section="TTHC", title_vi="Hồ sơ mẫu",
                   title_en="Sampled dossiers", min="6", max="5", fields="HS.NHAN | date")
    assert refused.status_code == 422
    assert errors_at(refused.get_data(as_text=True)) == {"fields"}
    refused = post(client, f"{base}/group/HS", code="HS", section="TTHC", title_vi="Hồ sơ mẫu",
                   title_en="Sampled dossiers", min="6", max="5", fields=group)
    assert errors_at(refused.get_data(as_text=True)) == {"max"}
    # The recommendation a rule suggests cannot go while the rule names it.
    assert post(client, f"{base}/recommendation/REC.TTHC.90/delete").status_code == 422
    assert doc(draft) == document
    actions = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "checklist.edit", AuditEvent.object_id == str(draft))).all()
    assert [(d["part"], d["change"]) for d in actions] == [
        ("recommendation", "add"), ("rule", "add"), ("group", "add"), ("settings", "edit")]


def test_a_change_saved_in_between_is_not_undone(office):
    client, _, draft = office
    base = f"/admin/checklists/{draft}/edit"
    form = client_values(client, f"{base}/item/CDDH.01")
    seen = re.search(r'name="sha256" value="([0-9a-f]+)"',
                     client.get(f"{base}/item/CDDH.01").get_data(as_text=True)).group(1)
    assert post(client, f"{base}/item/CDDH.01/move", direction="down").status_code == 302
    refused = post(client, f"{base}/item/CDDH.01", sha256=seen, **{**form, "title_en": "X"})
    assert refused.status_code == 409 and "vừa được người khác sửa" in refused.get_data(
        as_text=True)
    assert section(doc(draft), "CDDH")["items"][1]["title_en"] != "X"
