"""The province overview: inspections by plan, trip, unit and state; the ranking of units; the
indicators against targets; the recommendations to follow up; exports.

Everyone signed in sees the overview within what they may see (``services.reports``): the
secretariat and leaders the whole province, inspectors their trips, a unit representative their
unit. Exports: admin everything, a leader the trips they lead.
"""
from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..localtime import VIETNAM_TZ
from ..models import Recommendation, Role, Trip, TripMember, TripRole
from ..schemas.reports import (
    EXPORT_TABLES,
    ExportQuerySchema,
    OverviewQuerySchema,
    RankingPageQuerySchema,
    RecommendationQuerySchema,
)
from ..services import export, followup, reports
from . import charts
from .actions import run_action

bp = Blueprint("overview", __name__, url_prefix="/overview")


@bp.app_template_filter("fnum")
def fast_number(value, decimals: int = 1) -> str:
    """Like the `num` filter (1.081 and 86,5 in Vietnamese; 1,081 and 86.5 in English) without
    Babel's per-call cost: a ranking page formats tens of thousands of numbers."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals if decimals and value != int(value) else 0}f}"
    if str(get_locale()) != "en":
        text = text.translate(_SWAP)
    return text


_SWAP = str.maketrans(",.", ".,")


@bp.before_request
@login_required
def signed_in():
    """The province overview is for signed-in people only."""
    return None


def may_export() -> bool:
    """Whether the signed-in person may download exports (admins and leaders)."""
    return current_user.role in (Role.admin, Role.leader)


@bp.get("/")
def index():
    """The province overview: counts, scores and charts for the filters."""
    filters = OverviewQuerySchema().load(request.args)
    counts = reports.overview_counts(current_user, filters)
    choice = reports.resolve_ranking_filters()
    ranked = reports.ranking_page(current_user, choice["year"], choice["level"], choice["era"],
                                  per_page=0, chart=14)
    return render_template(
        "overview/index.html", counts=counts, filters=filters, choice=choice,
        ranked_total=ranked["total"],
        indicators=ranked["indicators"], classes=ranked["classes"],
        recommendations=reports.recommendation_counts(current_user),
        ranking_chart=charts.ranking_chart(ranked["chart_rows"], str(get_locale()),
                                           total=ranked["total"]),
        indicator_chart=charts.indicator_chart(ranked["indicators"], str(get_locale())),
        may_export=may_export(), sees_province=reports.sees_province(current_user),
        archive_trips=_archive_trips([t["id"] for t in counts["trips"]]))


@bp.get("/inspections")
def inspections():
    """The inspections matching the filters."""
    filters = OverviewQuerySchema().load(request.args)
    rows, total = reports.inspection_list(current_user, filters)
    return render_template("overview/inspections.html", rows=rows, total=total, filters=filters,
                           args=_args_without("page"), may_export=may_export(),
                           tables=EXPORT_TABLES,
                           export_args=_args_without("page", "per_page"))


@bp.get("/ranking")
def ranking():
    """The units ranked by score, for the filters."""
    query = RankingPageQuerySchema().load(request.args)
    choice = reports.resolve_ranking_filters(query.get("year"), query.get("level"),
                                             query.get("era"))
    ranked = reports.ranking_page(current_user, choice["year"], choice["level"], choice["era"],
                                  query["page"], query["per_page"])
    return render_template(
        "overview/ranking.html", total=ranked["total"], page_rows=ranked["rows"], query=query,
        args=_args_without("page"), choice=choice, sections=reports.section_titles(ranked["rows"]),
        indicators=ranked["indicators"], classes=ranked["classes"],
        sees_province=reports.sees_province(current_user),
        ranking_chart=charts.ranking_chart(ranked["chart_rows"], str(get_locale()),
                                           total=ranked["total"]),
        indicator_chart=charts.indicator_chart(ranked["indicators"], str(get_locale())))


@bp.get("/recommendations")
def recommendations():
    """The recommendations and their follow-up, for the filters."""
    filters = RecommendationQuerySchema().load(request.args)
    rows, total = reports.recommendation_list(current_user, filters)
    return render_template("overview/recommendations.html", rows=rows, total=total, filters=filters,
                           counts=reports.recommendation_counts(current_user),
                           args=_args_without("page"),
                           is_unitrep=current_user.role == Role.unitrep)


def _recommendation(recommendation_id: int) -> Recommendation:
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None:
        raise NotFound("Không tìm thấy kiến nghị.", "Recommendation not found.")
    return recommendation


def _act_on_recommendation(recommendation_id: int, act, success: str):
    """Run one of the unit's actions on a recommendation, flash its outcome and go back to the
    list (a recommendation the user may not see is the same 404 page as an unknown id)."""
    recommendation = _recommendation(recommendation_id)
    back = request.form.get("back") or ""
    target = (back if back.startswith("/overview/") and not back.startswith("//")
              else url_for("overview.recommendations"))
    return run_action(lambda: act(recommendation), success,
                      f"{target}#rec-{recommendation_id}" if "#" not in target else target,
                      raises=(NotFound,))


@bp.post("/recommendations/<int:recommendation_id>/done")
def recommendation_done(recommendation_id: int):
    """The unit reports a recommendation carried out: confirmation, note, evidence files."""
    return _act_on_recommendation(recommendation_id, lambda rec: followup.report_done(
        rec, current_user, request.form.get("note"), request.files.getlist("files"),
        confirmed=request.form.get("confirm") == "yes"),
        _("Đã báo cáo kiến nghị đã thực hiện; đoàn kiểm tra sẽ xác nhận ở lần kiểm tra sau."))


@bp.post("/recommendations/<int:recommendation_id>/undo")
def recommendation_undo(recommendation_id: int):
    """The unit withdraws its report while no inspection has verified it."""
    return _act_on_recommendation(recommendation_id,
                                  lambda rec: followup.undo_report(rec, current_user),
                                  _("Đã rút lại báo cáo; kiến nghị trở lại trạng thái "
                                    "chưa hoàn thành."))


@bp.post("/recommendations/<int:recommendation_id>/reply")
def recommendation_reply(recommendation_id: int):
    """The unit's reply in words to a recommendation."""
    return _act_on_recommendation(recommendation_id, lambda rec: followup.reply_to(
        rec, current_user, request.form.get("reply")), _("Đã lưu phản hồi của đơn vị."))


@bp.get("/recommendations/<int:recommendation_id>/evidence/<int:evidence_id>")
def recommendation_evidence(recommendation_id: int, evidence_id: int):
    """An evidence file of a unit's report (``?thumb=1``: its thumbnail)."""
    from ..services.photos import THUMB_SUFFIX, FileMissing
    from ..services.storage import get_storage

    evidence = followup.get_visible_evidence(current_user, recommendation_id, evidence_id)
    thumb = request.args.get("thumb") == "1"
    path = get_storage().path_for(evidence.sha256, THUMB_SUFFIX if thumb else "")
    if not path.is_file():
        raise FileMissing("Tệp bằng chứng không còn trên máy chủ.", "The evidence file is missing.")
    response = send_file(path, mimetype="image/jpeg" if thumb else evidence.content_type,
                         conditional=True,
                         etag=evidence.sha256 + ("-thumb" if thumb else ""), max_age=None,
                         download_name=evidence.filename if not thumb else None)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers.pop("Expires", None)
    return response


@bp.get("/export/<table>.<fmt>")
def export_table(table: str, fmt: str):
    """A table as CSV (streamed) or XLSX (written to a temporary file, then streamed)."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed(f"Định dạng “{fmt}” không được hỗ trợ (csv, xlsx).",
                               f"Format “{fmt}” is not supported (csv, xlsx).")
    filters = ExportQuerySchema().load(request.args)
    rows = export.table_rows(current_user._get_current_object(), table, filters, str(get_locale()))
    db.session.commit()  # the audit event
    stamp = datetime.now(VIETNAM_TZ).strftime("%Y%m%d-%H%M")
    name = f"cchc-{table}-{stamp}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(stream_with_context(export.csv_chunks(rows)), headers=headers,
                        mimetype="text/csv", content_type="text/csv; charset=utf-8")
    path = export.temporary_path(".xlsx")
    try:
        export.write_xlsx(rows, path, sheet=table)
    except BaseException:
        export.Path(path).unlink(missing_ok=True)
        raise
    headers["Content-Length"] = str(export.Path(path).stat().st_size)
    return Response(export.file_chunks(path), headers=headers,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/trips/<int:trip_id>/archive.zip")
def trip_archive(trip_id: int):
    """The trip's minutes and photos as one ZIP, written to a temporary file and streamed."""
    trip = export.trip_for_archive(current_user, db.session.get(Trip, trip_id))
    path = export.temporary_path(".zip")
    try:
        export.write_trip_zip(trip, path)
    except BaseException:
        export.Path(path).unlink(missing_ok=True)
        raise
    export.audit.record("export.trip_archive", trip, current_user)
    db.session.commit()  # the audit event, kept before the archive streams out
    headers = {"Content-Disposition": f'attachment; filename="{export.archive_name(trip)}"',
               "Content-Length": str(export.Path(path).stat().st_size), "Cache-Control": "no-store"}
    return Response(export.file_chunks(path), headers=headers, mimetype="application/zip")


def _archive_trips(trip_ids: list[int]) -> set[int]:
    """The trips whose minutes-and-photos archive the user may download."""
    if current_user.role == Role.admin:
        return set(trip_ids)
    if current_user.role != Role.leader:
        return set()
    return set(db.session.scalars(select(TripMember.trip_id).where(
        TripMember.user_id == current_user.id, TripMember.role == TripRole.leader,
        TripMember.trip_id.in_(trip_ids))))


def _args_without(*names: str) -> dict:
    return {k: v for k, v in request.args.items() if k not in names and v != ""}
