"""The checklist editor of the office pages (secretariat): a draft's settings, sections, items,
rules, recommendation texts and repeat groups, edited with plain forms (no JavaScript needed);
a section previewed as the tablet shows it; a new draft from a version; the differences
between two versions. What is allowed is decided in services/checklist_editor.py."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..checklists.format import FIELD_KINDS, KINDS, SEVERITIES
from ..errors import ServiceError
from ..extensions import db
from ..models import ChecklistTemplate, ChecklistVersion, Role
from ..services.checklist_editor import (
    PARTS,
    base_parts,
    compare,
    delete_part,
    form_values,
    move_part,
    new_draft,
    save_part,
)
from .actions import run_action
from .forms import form_id
from .i18n import N_

bp = Blueprint("checklist_editor", __name__, url_prefix="/admin/checklists")

KIND_LABELS = {"yesno": N_("Có/Không"), "score": N_("Chấm điểm"), "count": N_("Số đếm"),
               "ratio": N_("Tỷ lệ (%)"), "text": N_("Ghi chép"), "photo": N_("Ảnh minh chứng")}
SEVERITY_LABELS = {"error": N_("Lỗi (phải sửa)"), "warning": N_("Cảnh báo"),
                   "finding": N_("Phát hiện (ghi vào biên bản)"), "info": N_("Thông tin")}
PART_LABELS = {"settings": N_("Thông tin chung"), "section": N_("Lĩnh vực"),
               "item": N_("Tiêu chí"), "rule": N_("Quy tắc kiểm tra số liệu"),
               "recommendation": N_("Kiến nghị mẫu"), "group": N_("Nhóm mẫu lặp"),
               "setting": N_("Cài đặt")}
CHANGE_LABELS = {"added": N_("Thêm"), "removed": N_("Bỏ"), "changed": N_("Sửa"),
                 "reordered": N_("Đổi thứ tự tiêu chí")}
CONDITION_HINT = N_("Biểu thức theo ngôn ngữ quy tắc, ví dụ TTHC.23 > 0 hoặc "
                    "unit.kind != \"Phường\"; để trống nếu luôn áp dụng.")

# Each part's form: (field, label, input, hint). Inputs: text, number (decimal text, "1,5"
# works), integer, date, textarea, expr (monospace), codes, check, kind, severity.
FORMS: dict[str, list[tuple[str, str, str, str | None]]] = {
    "settings": [
        ("title_vi", N_("Tên (tiếng Việt)"), "text", None),
        ("title_en", N_("Tên (tiếng Anh)"), "text", None),
        ("valid_from", N_("Hiệu lực từ ngày"), "date", None),
        ("valid_to", N_("Hiệu lực đến ngày"), "date",
         N_("Để trống nếu chưa có ngày hết hiệu lực.")),
        ("notes_vi", N_("Ghi chú (tiếng Việt)"), "textarea", None),
        ("notes_en", N_("Ghi chú (tiếng Anh)"), "textarea", None),
    ],
    "section": [
        ("code", N_("Mã lĩnh vực"), "text", N_("Chữ in hoa và số, ví dụ TTHC.")),
        ("title_vi", N_("Tên (tiếng Việt)"), "text", None),
        ("title_en", N_("Tên (tiếng Anh)"), "text", None),
        ("optional", N_("Không bắt buộc"), "check", None),
        ("relevant", N_("Điều kiện áp dụng"), "expr", CONDITION_HINT),
    ],
    "item": [
        ("code", N_("Mã tiêu chí"), "text", N_("Mã lĩnh vực, dấu chấm, số: ví dụ TTHC.25.")),
        ("kind", N_("Loại"), "kind", None),
        ("title_vi", N_("Nội dung (tiếng Việt)"), "textarea", None),
        ("title_en", N_("Nội dung (tiếng Anh)"), "textarea", None),
        ("max_points", N_("Điểm tối đa"), "number",
         N_("Có/Không và chấm điểm: bắt buộc; tỷ lệ: chỉ khi có mục tiêu; loại khác: để trống.")),
        ("evidence_hint_vi", N_("Gợi ý minh chứng (tiếng Việt)"), "textarea", None),
        ("evidence_hint_en", N_("Gợi ý minh chứng (tiếng Anh)"), "textarea", None),
        ("note_vi", N_("Ghi chú (tiếng Việt)"), "textarea", None),
        ("note_en", N_("Ghi chú (tiếng Anh)"), "textarea", None),
        ("unit_vi", N_("Đơn vị đếm (tiếng Việt)"), "text", N_("Chỉ cho số đếm, ví dụ hồ sơ.")),
        ("unit_en", N_("Đơn vị đếm (tiếng Anh)"), "text", None),
        ("numerator", N_("Tử số (mã các số đếm)"), "codes",
         N_("Chỉ cho tỷ lệ: mã các số đếm, cách nhau bằng dấu phẩy.")),
        ("denominator", N_("Mẫu số (mã các số đếm)"), "codes", None),
        ("target", N_("Mục tiêu"), "text", N_("Chỉ cho tỷ lệ, ví dụ >= 98.")),
        ("target_source", N_("Căn cứ của mục tiêu"), "text", None),
        ("indicator", N_("Khóa chỉ số báo cáo"), "text", N_("Chỉ cho tỷ lệ, ví dụ on_time_rate.")),
        ("relevant", N_("Điều kiện áp dụng"), "expr", CONDITION_HINT),
        ("compute", N_("Công thức tính (chỉ số đếm)"), "expr",
         N_("Ví dụ count(HS, HS.TRA <= HS.HEN); để trống nếu nhập tay.")),
    ],
    "rule": [
        ("id", N_("Mã quy tắc"), "text", N_("R và hai hoặc ba chữ số, ví dụ R08.")),
        ("severity", N_("Mức độ"), "severity", None),
        ("expr", N_("Biểu thức"), "expr", N_("Ví dụ TTHC.26 <= TTHC.25.")),
        ("defaults", N_("Giá trị mặc định khi để trống"), "text",
         N_("Ví dụ TTHC.30 = 0; TTHC.29 = 0.")),
        ("message_vi", N_("Thông báo (tiếng Việt)"), "textarea", None),
        ("message_en", N_("Thông báo (tiếng Anh)"), "textarea", None),
        ("suggests", N_("Gợi ý kiến nghị (mã)"), "codes", N_("Ví dụ REC.TTHC.02.")),
    ],
    "recommendation": [
        ("code", N_("Mã kiến nghị"), "text", N_("Ví dụ REC.TTHC.02.")),
        ("section", N_("Lĩnh vực (mã)"), "text", None),
        ("items", N_("Tiêu chí liên quan (mã)"), "codes",
         N_("Để trống: gợi ý khi bất kỳ tiêu chí nào của lĩnh vực chưa đạt.")),
        ("text_vi", N_("Nội dung (tiếng Việt)"), "textarea", None),
        ("text_en", N_("Nội dung (tiếng Anh)"), "textarea", None),
        ("source", N_("Căn cứ"), "text", None),
    ],
    "group": [
        ("code", N_("Mã nhóm"), "text", N_("Chữ in hoa, ví dụ HS; khác mã các lĩnh vực.")),
        ("section", N_("Lĩnh vực (mã)"), "text", None),
        ("title_vi", N_("Tên (tiếng Việt)"), "text", None),
        ("title_en", N_("Tên (tiếng Anh)"), "text", None),
        ("hint_vi", N_("Hướng dẫn (tiếng Việt)"), "textarea", None),
        ("hint_en", N_("Hướng dẫn (tiếng Anh)"), "textarea", None),
        ("min", N_("Số mẫu tối thiểu"), "integer", None),
        ("max", N_("Số mẫu tối đa"), "integer", None),
        ("relevant", N_("Điều kiện áp dụng"), "expr", CONDITION_HINT),
        ("fields", N_("Các trường của mỗi mẫu"), "lines",
         N_("Mỗi dòng một trường: MÃ | loại | tên tiếng Việt | tên tiếng Anh, ví dụ "
            "HS.HEN | date | Ngày hẹn trả | Due date. Loại: yesno, number, date, text.")),
    ],
}
FIRST_ITEM = [("item_code", N_("Mã tiêu chí đầu tiên"), "text", N_("Ví dụ TTHC.01.")),
              ("item_kind", N_("Loại"), "kind", None),
              ("item_title_vi", N_("Nội dung (tiếng Việt)"), "textarea", None),
              ("item_title_en", N_("Nội dung (tiếng Anh)"), "textarea", None),
              ("item_max_points", N_("Điểm tối đa"), "number", None)]


@bp.before_request
@login_required
def admins_only():
    """The editor is for the secretariat's administrators only (403 otherwise)."""
    if current_user.role != Role.admin:
        abort(403)


def _version(version_id: int) -> ChecklistVersion:
    return db.session.get(ChecklistVersion, version_id) or abort(404)


def _editor_page(version: ChecklistVersion, problems=None, status: int = 200, form=None):
    versions = db.session.scalars(select(ChecklistVersion).join(ChecklistTemplate)
                                  .order_by(ChecklistTemplate.code, ChecklistVersion.id)).all()
    field_errors: dict = {}
    for problem in problems or []:
        if problem.get("field"):
            field_errors.setdefault(problem["field"], []).append(problem)
    return render_template(
        "admin/checklist_editor.html", version=version, doc=version.document,
        base=base_parts(version), problems=problems or [], versions=versions,
        field_errors=field_errors,
        form=form or {}, kind_label=lambda kind: _(KIND_LABELS.get(kind, kind))), status


@bp.get("/<int:version_id>/edit")
def editor(version_id: int):
    """A version in the editor: every part with its buttons (a published one read-only)."""
    return _editor_page(_version(version_id))


def _part_page(version, part: str, key: str | None, values, problems, status: int):
    fields = FORMS[part] + (FIRST_ITEM if part == "section" and key is None else [])
    by_field: dict = {}
    for problem in problems or []:
        by_field.setdefault(problem.get("field"), []).append(problem)
    return render_template(
        "admin/checklist_part.html", version=version, part=part, key=key, fields=fields,
        values=values, errors=by_field, part_label=_(PART_LABELS[part]),
        section=request.values.get("section", ""), kinds=KINDS, severities=SEVERITIES,
        field_kinds=FIELD_KINDS, kind_label=lambda kind: _(KIND_LABELS.get(kind, kind)),
        severity_label=lambda s: _(SEVERITY_LABELS.get(s, s)),
        from_base=key in base_parts(version).get(part, set())), status


@bp.route("/<int:version_id>/edit/<part>/<key>", methods=["GET", "POST"])
def part_form(version_id: int, part: str, key: str):
    """Add (key "new") or change one part of a draft; the form again with every problem next
    to its field when the checklist would not be valid (nothing saved)."""
    version = _version(version_id)
    if part not in PARTS:
        abort(404)
    code = None if key == "new" else key
    if request.method == "GET":
        try:
            values = form_values(version, part, code)
        except ServiceError:
            abort(404)
        return _part_page(version, part, code, values, [], 200)
    form = request.form
    return run_action(
        lambda: save_part(version, part, code, form, section=form.get("section"),
                          by=current_user),
        _("Đã lưu; danh mục vẫn hợp lệ."),
        lambda saved: redirect(url_for(".editor", version_id=version.id,
                                       _anchor=f"{part}-{saved}" if saved else None)),
        refused=lambda exc: _part_page(version, part, code, form, exc.errors, exc.status))


@bp.route("/<int:version_id>/edit/<part>/<key>/delete", methods=["GET", "POST"])
def delete(version_id: int, part: str, key: str):
    """Delete a part of a draft (refused while the rest still refers to it), after a page that
    asks (a section goes with all its items)."""
    version = _version(version_id)
    if request.method == "GET":
        try:
            values = form_values(version, part, key) if part in PARTS else abort(404)
        except ServiceError:
            abort(404)
        items = [i for s in version.document["sections"] if s["code"] == key
                 for i in s["items"]] if part == "section" else []
        return render_template("admin/checklist_delete.html", version=version, part=part,
                               key=key, values=values, items=items,
                               part_label=_(PART_LABELS[part]))
    return run_action(lambda: delete_part(version, part, key, by=current_user),
                      _("Đã xoá %(code)s.", code=key),
                      lambda _done: redirect(url_for(".editor", version_id=version.id)),
                      refused=lambda exc: _editor_page(version, exc.errors, exc.status))


@bp.post("/<int:version_id>/edit/<part>/<key>/move")
def move(version_id: int, part: str, key: str):
    """Move a section, or an item in its section, one place up or down."""
    version = _version(version_id)
    return run_action(
        lambda: move_part(version, part, key, request.form.get("direction", ""),
                          by=current_user),
        lambda moved: _("Đã chuyển %(code)s.", code=key) if moved else None,
        lambda _moved: redirect(url_for(".editor", version_id=version.id,
                                        _anchor=f"{part}-{key}")),
        refused=lambda exc: _editor_page(version, exc.errors, exc.status))


@bp.post("/<int:version_id>/new-draft")
def start_draft(version_id: int):
    """A new draft copied from a version: its next version, or an extension of it."""
    version = _version(version_id)
    form = request.form
    return run_action(
        lambda: new_draft(version, form, by=current_user),
        lambda made: _("Đã tạo bản nháp %(code)s %(version)s.", code=made.template.code,
                       version=made.version),
        lambda made: redirect(url_for(".editor", version_id=made.id)),
        refused=lambda exc: _editor_page(version, exc.errors, exc.status, form))


@bp.get("/<int:version_id>/preview/<section>")
def preview(version_id: int, section: str):
    """A section as the tablet shows it, drawn by the field app's own item cards."""
    version = _version(version_id)
    found = next((s for s in version.document["sections"] if s["code"] == section), None)
    if found is None:
        abort(404)
    sections = version.document["sections"]
    return render_template("admin/checklist_preview.html", version=version, section=found,
                           sections=sections, doc=version.document)


@bp.get("/compare")
def compare_versions():
    """The differences between two versions (by default a version and the one before it)."""
    new = db.session.get(ChecklistVersion, form_id(request.args.get("new"), 0)) or abort(404)
    old_id = form_id(request.args.get("old"), 0)
    if not old_id:
        earlier = [v for v in new.template.versions if v.id < new.id]
        old = earlier[-1] if earlier else new.base_version
    else:
        old = db.session.get(ChecklistVersion, old_id) or abort(404)
    versions = db.session.scalars(select(ChecklistVersion).join(ChecklistTemplate)
                                  .order_by(ChecklistTemplate.code, ChecklistVersion.id)).all()
    return render_template(
        "admin/checklist_compare.html", old=old, new=new, versions=versions,
        changes=compare(old, new) if old is not None else [],
        part_label=lambda p: _(PART_LABELS.get(p, p)),
        change_label=lambda c: _(CHANGE_LABELS.get(c, c)))
