"""The audit log in words: “Nguyễn Văn An duyệt kết quả cuộc kiểm tra tại Xã Cô Ngân” instead of
``inspection.approve inspections #3`` (the home page's recent activity, an inspection's history).

``ACTIVITY`` gives each action a sentence with the object's name; an action nobody described
yet still reads as words (“thao tác …”), never as a bare code. The objects of a page's events are
loaded once (one query per table), not one by one.
"""
from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from ..extensions import db
from ..models import (
    AuditEvent,
    ChecklistUpload,
    ChecklistVersion,
    Conflict,
    Finding,
    Inspection,
    LateSubmission,
    MinutesRevision,
    PaperMinutes,
    Photo,
    Plan,
    Recommendation,
    Trip,
    User,
    UserCertificate,
)
from .i18n import N_

# action -> sentence; %(object)s is the record's name (a unit, an account, a trip…).
ACTIVITY = {
    "user.login": N_("đăng nhập"),
    "user.create": N_("tạo tài khoản %(object)s"),
    "user.update": N_("sửa tài khoản %(object)s"),
    "user.password_reset": N_("đặt mật khẩu mới cho %(object)s"),
    "user.password_change": N_("đổi mật khẩu của mình"),
    "user.end_sessions": N_("đăng xuất %(object)s trên mọi thiết bị"),
    "user.deactivate": N_("khoá tài khoản %(object)s"),
    "user.activate": N_("mở lại tài khoản %(object)s"),
    "certificate.register": N_("đăng ký chứng thư số cho %(object)s"),
    "certificate.withdraw": N_("thu hồi chứng thư số của %(object)s"),
    "plan.create": N_("tạo kế hoạch %(object)s"),
    "plan.update": N_("sửa kế hoạch %(object)s"),
    "trip.create": N_("tạo đợt kiểm tra %(object)s"),
    "trip.update": N_("sửa đợt kiểm tra %(object)s"),
    "checklist.import": N_("nhập danh mục kiểm tra %(object)s"),
    "checklist.publish": N_("ban hành danh mục kiểm tra %(object)s"),
    "checklist.edit": N_("sửa bản nháp danh mục kiểm tra %(object)s"),
    "checklist.new_draft": N_("tạo bản nháp danh mục kiểm tra %(object)s"),
    "checklist.upload_imported": N_("tải lên bảng tính danh mục %(object)s"),
    "checklist.upload_refused": N_("tải lên bảng tính danh mục %(object)s (bị từ chối)"),
    "inspection.start": N_("bắt đầu kiểm tra %(object)s"),
    "inspection.submit": N_("gửi trưởng đoàn kết quả kiểm tra %(object)s"),
    "inspection.approve": N_("duyệt kết quả kiểm tra %(object)s"),
    "inspection.sign": N_("đánh dấu đã ký biên bản %(object)s"),
    "inspection.reopen": N_("mở lại cuộc kiểm tra %(object)s"),
    "inspection.unit_comments": N_("ghi ý kiến của đơn vị vào %(object)s"),
    "closing.set": N_("ghi nội dung họp kết thúc (giờ họp, người dự, ý kiến, hạn báo cáo) của "
                      "%(object)s từ máy tính bảng"),
    "observation.set": N_("sửa kết quả tiêu chí %(item)s của %(object)s"),
    "conflict.resolve": N_("giải quyết một xung đột số liệu ở %(object)s"),
    "late_submission.accepted": N_("chấp nhận một thay đổi gửi muộn ở %(object)s"),
    "late_submission.dismissed": N_("bỏ qua một thay đổi gửi muộn ở %(object)s"),
    "photo.create": N_("thêm ảnh vào %(object)s"),
    "photo.caption": N_("sửa chú thích một ảnh của %(object)s"),
    "photo.delete": N_("xoá một ảnh của %(object)s"),
    "finding.add": N_("ghi nhận xét cho %(object)s"),
    "finding.update": N_("sửa một nhận xét của %(object)s"),
    "finding.delete": N_("xoá một nhận xét của %(object)s"),
    "recommendation.add": N_("thêm kiến nghị cho %(object)s"),
    "recommendation.update": N_("sửa kiến nghị cho %(object)s"),
    "recommendation.delete": N_("xoá kiến nghị cho %(object)s"),
    "recommendation.follow_up": N_("ghi kết quả theo dõi kiến nghị của %(object)s"),
    "recommendation.report_done": N_("báo đã thực hiện kiến nghị của %(object)s"),
    "recommendation.report_undone": N_("rút lại báo cáo đã thực hiện kiến nghị của %(object)s"),
    "recommendation.reply": N_("trả lời kiến nghị của %(object)s"),
    "self_assessment.submit": N_("nộp tự đánh giá của %(object)s"),
    "self_assessment.withdraw": N_("rút lại tự đánh giá của %(object)s"),
    "self_assessment.evidence": N_("tải lên tài liệu kiểm chứng tự đánh giá của %(object)s"),
    "self_assessment.ask": N_("đề nghị %(object)s giải trình tiêu chí %(item)s"),
    "self_assessment.answer": N_("giải trình tiêu chí %(item)s của %(object)s"),
    "minutes.build": N_("lập biên bản (lần %(revision)s) cho %(object)s"),
    "minutes.sign": N_("ký biên bản của %(object)s"),
    "minutes.paper": N_("tải lên bản quét biên bản (lần %(revision)s) ký trên giấy của "
                        "%(object)s"),
    "minutes.details": N_("ghi thông tin cho biên bản của %(object)s (người dự họp, hạn báo cáo, "
                          "nơi nhận)"),
    "export.inspections": N_("xuất bảng các cuộc kiểm tra"),
    "export.observations": N_("xuất bảng kết quả từng tiêu chí"),
    "export.indicators": N_("xuất bảng chỉ tiêu"),
    "export.recommendations": N_("xuất bảng kiến nghị"),
    "export.self_assessment": N_("xuất bảng tự đánh giá của đơn vị"),
    "export.trip_archive": N_("tải biên bản và ảnh của đợt %(object)s"),
}
# Records that belong to an inspection are named by its unit.
_BY_INSPECTION = (Conflict, LateSubmission, Photo, Finding, Recommendation, MinutesRevision,
                  PaperMinutes)


def _names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """(table, id) -> what a person calls the record, for every record the events touch."""
    ids: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if str(event.object_id).isdigit():
            ids[event.object_type].add(int(event.object_id))
    names: dict[tuple[str, str], str] = {}
    inspection_of: dict[tuple[str, str], int] = {}

    def load(model, label):
        wanted = ids.get(model.__tablename__)
        if wanted:
            for row in db.session.scalars(select(model).where(model.id.in_(wanted))):
                names[(model.__tablename__, str(row.id))] = label(row)

    load(User, lambda u: u.full_name)
    load(Plan, lambda p: p.number)
    load(Trip, lambda t: t.name)
    load(UserCertificate, lambda c: c.user.full_name)
    load(ChecklistVersion, lambda v: f"{v.template.code} {v.version}")
    load(ChecklistUpload, lambda u: u.filename or "")
    for model in _BY_INSPECTION:
        wanted = ids.get(model.__tablename__)
        if wanted:
            for row_id, inspection_id in db.session.execute(
                    select(model.id, model.inspection_id).where(model.id.in_(wanted))):
                inspection_of[(model.__tablename__, str(row_id))] = inspection_id
    # A record deleted since (a photo) is named by the inspection its event kept.
    for event in events:
        key = (event.object_type, str(event.object_id))
        kept = (event.details or {}).get("inspection_id")
        if key not in inspection_of and isinstance(kept, int):
            inspection_of[key] = kept
    wanted = ids.get("inspections", set()) | set(inspection_of.values())
    units = {i.id: i.unit.full_name for i in db.session.scalars(
        select(Inspection).where(Inspection.id.in_(wanted)))} if wanted else {}
    for (table, row_id), inspection_id in inspection_of.items():
        names[(table, row_id)] = units.get(inspection_id, "")
    for inspection_id, unit in units.items():
        names[("inspections", str(inspection_id))] = unit
    return names


def describe(events: list[AuditEvent]) -> list[tuple[AuditEvent, Markup]]:
    """Each event with its sentence in the page's language (the record's name in bold)."""
    names = _names(events)
    described = []
    for event in events:
        name = names.get((event.object_type, str(event.object_id)))
        details = event.details or {}
        sentence = ACTIVITY.get(event.action)
        if sentence is None:
            text = escape(_("thao tác “%(action)s”",
                            action=event.action.replace("_", " ").replace(".", " · ")))
        else:
            text = escape(_(sentence)) if "%(" not in sentence else Markup(_(
                sentence, object=Markup("<b>%s</b>") % (name or _("(đã xoá)")),
                item=escape(details.get("item_code", "")),
                revision=escape(details.get("revision", ""))))
        described.append((event, text))
    return described
