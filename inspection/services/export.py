"""Exports: tables as CSV and XLSX, an SQLite analysis database, and a ZIP of a trip's minutes
and photos.

Nothing is built in memory whole: rows come from the database in batches (``yield_per``); CSV
is produced chunk by chunk for a streamed response; XLSX (openpyxl's write-only mode), the
SQLite database and the ZIP are written to a temporary file that is then streamed and deleted.

Who may export: the secretariat (admin) everything, a leader the trips they lead
(``reports.export_condition``).
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import and_, select

from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..localtime import VIETNAM_TZ, iso_local
from ..models import (
    AdminUnit,
    ChecklistTemplate,
    ChecklistVersion,
    Finding,
    Inspection,
    InspectionScore,
    MinutesRevision,
    MinutesStatus,
    Observation,
    PaperMinutes,
    Photo,
    Plan,
    Recommendation,
    Role,
    SelfAssessment,
    SelfAssessmentClaim,
    SelfAssessmentState,
    Trip,
    TripMember,
    TripRole,
    User,
    unit_merges,
)
from . import audit
from .access import is_trip_leader
from .reports import (
    INDICATORS,
    export_condition,
    filter_query,
    is_overdue,
    local_today,
    value_column,
)

BATCH = 2000
XLSX_MAX_ROWS = 1_048_576
CHUNK = 256 * 1024
BOM = "\ufeff"


# ---------------------------------------------------------------------------------------------
# Table rows


def _inspection_query(condition, filters: dict):
    query = (select(Inspection.id)
             .join(Trip, Trip.id == Inspection.trip_id)
             .join(AdminUnit, AdminUnit.id == Inspection.unit_id))
    query = filter_query(query, filters)
    return query if condition is None else query.where(condition)


def _rows(query) -> Iterator:
    return db.session.execute(query.execution_options(yield_per=BATCH))


def inspection_rows(condition, filters: dict) -> Iterator[list]:
    """Header, then one row per inspection with its score snapshot."""
    yield ["inspection_id", "plan", "trip", "unit_code", "unit", "level", "era", "scheduled_on",
           "state", "signed_on", "paper_sha256", "points", "max_points", "percent", "class",
           "sections", "answered", "items", "on_time_rate", "online_share", "signed_share"]
    ids = _inspection_query(condition, filters).subquery()
    query = (select(Inspection.id, Plan.number, Trip.name, AdminUnit.code, AdminUnit.kind,
                    AdminUnit.name,
                    ChecklistTemplate.unit_level, ChecklistTemplate.era, Inspection.scheduled_on,
                    Inspection.state, Inspection.signed_on, _latest_paper_scan(),
                    InspectionScore)
             .join(ids, ids.c.id == Inspection.id)
             .join(Trip, Trip.id == Inspection.trip_id).join(Plan, Plan.id == Trip.plan_id)
             .join(AdminUnit, AdminUnit.id == Inspection.unit_id)
             .join(ChecklistVersion, ChecklistVersion.id == Inspection.checklist_version_id)
             .join(ChecklistTemplate, ChecklistTemplate.id == ChecklistVersion.template_id)
             .outerjoin(InspectionScore, InspectionScore.inspection_id == Inspection.id)
             .order_by(Inspection.scheduled_on, Inspection.id))
    for r in _rows(query):
        score = r[12]
        sections = "; ".join(f"{code} {points:g}/{maximum:g}" for code, points, maximum,
                             _p in score.sections) \
            if score else ""
        yield [r[0], r[1], r[2], r[3], f"{r[4]} {r[5]}", r[6], r[7], r[8], r[9].value,
               r[10], r[11], score and score.total, score and score.max, score and score.percent,
               (Coded(score.class_code, score.class_vi, score.class_en)
                if score and score.class_code else None),
               sections, score and score.answered, score and score.items,
               score and score.on_time_rate, score and score.online_share,
               score and score.signed_share]


def _latest_paper_scan():
    """The SHA-256 of an inspection's latest scan of paper minutes whose revision still
    stands (a column of the inspections table)."""
    return (select(PaperMinutes.sha256)
            .join(MinutesRevision, MinutesRevision.id == PaperMinutes.revision_id)
            .where(PaperMinutes.inspection_id == Inspection.id,
                   MinutesRevision.status != MinutesStatus.superseded)
            .order_by(PaperMinutes.id.desc()).limit(1)
            .correlate(Inspection).scalar_subquery())


def observation_rows(condition, filters: dict) -> Iterator[list]:
    """Header, then one row per observation."""
    yield ["inspection_id", "unit_code", "unit", "scheduled_on", "item_code", "result", "points",
           "value", "text", "note", "version", "updated_by", "updated_at"]
    ids = _inspection_query(condition, filters).subquery()
    query = (select(Observation.inspection_id, AdminUnit.code, AdminUnit.kind, AdminUnit.name,
                    Inspection.scheduled_on, Observation.item_code, Observation.result,
                    Observation.points,
                    Observation.value, Observation.text, Observation.note, Observation.version,
                    User.username, Observation.updated_at)
             .join(ids, ids.c.id == Observation.inspection_id)
             .join(Inspection, Inspection.id == Observation.inspection_id)
             .join(AdminUnit, AdminUnit.id == Inspection.unit_id)
             .outerjoin(User, User.id == Observation.updated_by_id)
             .order_by(Observation.inspection_id, Observation.item_code))
    for r in _rows(query):
        yield [r[0], r[1], f"{r[2]} {r[3]}", *r[4:]]


def indicator_rows(condition, filters: dict) -> Iterator[list]:
    """Header, then one row per inspection and key indicator (value, target, met)."""
    yield ["inspection_id", "unit_code", "unit", "scheduled_on", "indicator", "value", "target",
           "met"]
    ids = _inspection_query(condition, filters).subquery()
    query = (select(InspectionScore, AdminUnit.code, AdminUnit.kind, AdminUnit.name)
             .join(ids, ids.c.id == InspectionScore.inspection_id)
             .join(AdminUnit, AdminUnit.id == InspectionScore.unit_id)
             .order_by(InspectionScore.scheduled_on, InspectionScore.inspection_id))
    for score, code, kind, name in _rows(query):
        for indicator, prefix, vi, en in INDICATORS:
            yield [score.inspection_id, code, f"{kind} {name}", score.scheduled_on,
                   Coded(indicator, vi, en),
                   getattr(score, value_column(prefix)), getattr(score, f"{prefix}_target"),
                   getattr(score, f"{prefix}_met")]


def recommendation_rows(condition, filters: dict) -> Iterator[list]:
    """Header, then one row per recommendation with its follow-up."""
    today = local_today()
    yield ["recommendation_id", "inspection_id", "unit_code", "unit", "inspected_on", "text",
           "due_on", "status",
           "overdue", "follow_up_result", "follow_up_evidence", "followed_up_in_id"]
    ids = _inspection_query(condition, filters).subquery()
    query = (select(Recommendation, AdminUnit.code, AdminUnit.kind, AdminUnit.name,
                    Inspection.scheduled_on)
             .join(ids, ids.c.id == Recommendation.inspection_id)
             .join(Inspection, Inspection.id == Recommendation.inspection_id)
             .join(AdminUnit, AdminUnit.id == Recommendation.unit_id)
             .order_by(Recommendation.inspection_id, Recommendation.position, Recommendation.id))
    for rec, code, kind, name, inspected_on in _rows(query):
        yield [rec.id, rec.inspection_id, code, f"{kind} {name}", inspected_on, rec.text,
               rec.due_on, rec.status.value, is_overdue(rec, today), rec.follow_up_result,
               rec.follow_up_evidence, rec.followed_up_in_id]


def self_assessment_rows(condition, filters: dict) -> Iterator[list]:
    """Header, then one row per claim of a submitted self-assessment, with its evidence files
    (name and SHA-256) and the explanation asked for and given."""
    yield ["inspection_id", "unit_code", "unit", "scheduled_on", "submitted_at", "item_code",
           "result", "points", "value", "text", "note", "explanation", "evidence_files",
           "explanation_request", "explanation_answer"]
    ids = _inspection_query(condition, filters).subquery()
    query = (select(SelfAssessment, AdminUnit.code, AdminUnit.kind, AdminUnit.name,
                    Inspection.scheduled_on)
             .join(ids, ids.c.id == SelfAssessment.inspection_id)
             .join(Inspection, Inspection.id == SelfAssessment.inspection_id)
             .join(AdminUnit, AdminUnit.id == Inspection.unit_id)
             .where(SelfAssessment.state == SelfAssessmentState.submitted)
             .order_by(SelfAssessment.inspection_id))
    for assessment, code, kind, name, scheduled_on in db.session.execute(query).all():
        files = {e.id: e for e in assessment.evidence}
        asked = {e.item_code: e for e in assessment.explanations}
        claims: list[SelfAssessmentClaim] = assessment.claims
        for claim in claims:
            request = asked.get(claim.item_code)
            yield [assessment.inspection_id, code, f"{kind} {name}", scheduled_on,
                   assessment.submitted_at, claim.item_code, claim.result, claim.points,
                   claim.value, claim.text, claim.note, claim.explanation,
                   "; ".join(f"{files[i].filename} (SHA-256 {files[i].sha256})"
                             for i in claim.evidence_ids or [] if i in files),
                   request.question if request else None,
                   request.answer if request else None]


TABLES: dict[str, Callable[[object, dict], Iterator[list]]] = {
    "inspections": inspection_rows,
    "observations": observation_rows,
    "indicators": indicator_rows,
    "recommendations": recommendation_rows,
    "self_assessment": self_assessment_rows,
}


def table_rows(user: User, table: str, filters: dict, locale: str = "vi") -> Iterator[list]:
    """The rows of an export table the user may take (PermissionDenied, NotFound): headers and
    labels in `locale`, codes in their own columns (``labelled``)."""
    if table not in TABLES:
        raise NotFound(f"Không có bảng “{table}” để xuất (dùng: {', '.join(TABLES)}).",
                               f"No table “{table}” to export (use: {', '.join(TABLES)}).")
    condition = export_condition(user)
    audit.record("export." + table, user, user, filters={k: str(v) for k, v in filters.items()})
    return labelled(TABLES[table](condition, filters), locale)


# ---------------------------------------------------------------------------------------------
# Headers and labels people read; codes for machines


class Coded:
    """A coded cell whose labels come with it (a checklist's class names, an indicator's title)."""

    __slots__ = ("code", "vi", "en")

    def __init__(self, code: str, vi: str | None, en: str | None):
        self.code, self.vi, self.en = code, vi or code, en or vi or code


# The title of every column, (Vietnamese, English).
COLUMN_TITLES: dict[str, tuple[str, str]] = {
    "inspection_id": ("Số hiệu cuộc kiểm tra", "Inspection no."),
    "recommendation_id": ("Số hiệu kiến nghị", "Recommendation no."),
    "plan": ("Kế hoạch", "Plan"),
    "trip": ("Đợt kiểm tra", "Inspection trip"),
    "unit_code": ("Mã đơn vị", "Unit code"),
    "unit": ("Đơn vị", "Unit"),
    "level": ("Cấp", "Level"),
    "era": ("Mô hình", "Model"),
    "scheduled_on": ("Ngày kiểm tra", "Inspection date"),
    "inspected_on": ("Ngày kiểm tra", "Inspection date"),
    "state": ("Trạng thái", "State"),
    "signed_on": ("Hình thức ký biên bản", "Minutes signed"),
    "paper_sha256": ("SHA-256 bản quét biên bản ký trên giấy",
                     "SHA-256 of the paper minutes' scan"),
    "points": ("Điểm", "Points"),
    "max_points": ("Điểm tối đa", "Maximum points"),
    "percent": ("Tỷ lệ điểm (%)", "Score (%)"),
    "class": ("Xếp loại", "Class"),
    "sections": ("Điểm từng lĩnh vực", "Points per area"),
    "answered": ("Số tiêu chí đã ghi nhận", "Criteria answered"),
    "items": ("Số tiêu chí", "Criteria"),
    "on_time_rate": ("Tỷ lệ hồ sơ giải quyết đúng hạn (%)", "Dossiers resolved on time (%)"),
    "online_share": ("Tỷ lệ hồ sơ tiếp nhận trực tuyến (%)", "Dossiers received online (%)"),
    "signed_share": ("Tỷ lệ văn bản đi ký số (%)", "Outgoing documents digitally signed (%)"),
    "item_code": ("Mã tiêu chí", "Criterion code"),
    "result": ("Kết quả", "Result"),
    "value": ("Giá trị", "Value"),
    "text": ("Nội dung", "Text"),
    "note": ("Ghi chú", "Note"),
    "version": ("Phiên bản", "Version"),
    "updated_by": ("Người ghi", "Entered by"),
    "updated_at": ("Thời điểm ghi (giờ Việt Nam)", "Entered at (Vietnam time)"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "target": ("Mục tiêu (%)", "Target (%)"),
    "met": ("Đạt mục tiêu", "Target met"),
    "due_on": ("Hạn thực hiện", "Due date"),
    "status": ("Trạng thái", "Status"),
    "overdue": ("Quá hạn", "Overdue"),
    "follow_up_result": ("Kết quả theo dõi", "Follow-up result"),
    "follow_up_evidence": ("Bằng chứng theo dõi", "Follow-up evidence"),
    "followed_up_in_id": ("Theo dõi tại cuộc kiểm tra số", "Followed up at inspection no."),
    "submitted_at": ("Thời điểm nộp tự đánh giá (giờ Việt Nam)",
                     "Self-assessment submitted at (Vietnam time)"),
    "explanation": ("Giải trình khi không có tài liệu", "Explanation without evidence"),
    "evidence_files": ("Tài liệu kiểm chứng", "Evidence files"),
    "explanation_request": ("Đề nghị giải trình", "Explanation requested"),
    "explanation_answer": ("Đơn vị giải trình", "The unit's explanation"),
}
YES_NO = {True: ("Có", "Yes"), False: ("Không", "No")}
# Coded columns: the code stays in its column (for machines), a label column follows it.
CODE_LABELS: dict[str, dict] = {
    "level": {"province": ("Tỉnh", "Province"), "district": ("Huyện", "District"),
              "commune": ("Xã", "Commune")},
    "era": {"3cap": ("Mô hình 3 cấp", "Three-level model"),
            "2cap": ("Mô hình 2 cấp", "Two-level model")},
    "state": {"planned": ("Đã lên kế hoạch", "Planned"),
              "in_progress": ("Đang kiểm tra", "In progress"),
              "submitted": ("Đã gửi trưởng đoàn", "Submitted to the leader"),
              "approved": ("Đã duyệt", "Approved"),
              "signed": ("Đã ký", "Signed")},
    "signed_on": {"paper": ("Ký trên giấy", "Signed on paper"),
                  "digital": ("Ký số", "Signed digitally")},
    "class": {},
    "result": {"pass": ("Đạt", "Met"), "partial": ("Đạt một phần", "Partly met"),
               "fail": ("Không đạt", "Not met"),
               "na": ("Không áp dụng", "Not applicable")},
    "indicator": {},
    "met": YES_NO,
    "status": {"open": ("Chưa hoàn thành", "Not yet carried out"),
               "done": ("Đơn vị báo đã thực hiện", "Reported done by the unit"),
               "verified": ("Đã xác nhận hoàn thành", "Verified as carried out")},
    "overdue": YES_NO,
    "follow_up_result": {"done": ("Đã thực hiện", "Carried out"),
                         "partly": ("Thực hiện một phần", "Partly carried out"),
                         "not_done": ("Chưa thực hiện", "Not carried out")},
}
CODE_SUFFIX = (" (mã)", " (code)")


def column_titles(keys: list[str], locale: str = "vi") -> list[str]:
    """The header people read: each column's title in `locale`; a coded column has two, the
    code's (“Trạng thái (mã)”) then the label's (“Trạng thái”)."""
    en = locale == "en"
    titles = []
    for key in keys:
        title = COLUMN_TITLES.get(key, (key, key))[en]
        titles.extend([title + CODE_SUFFIX[en], title] if key in CODE_LABELS else [title])
    return titles


def labelled(rows: Iterable[list], locale: str = "vi") -> Iterator[list]:
    """An export table for people and machines: the header row of column keys becomes titles in
    `locale`; each coded value keeps its code and gains a label in `locale` beside it."""
    en = locale == "en"
    iterator = iter(rows)
    keys = next(iterator, [])
    yield column_titles(keys, locale)
    coded = [CODE_LABELS.get(key) for key in keys]
    for row in iterator:
        out = []
        for labels, value in zip(coded, row, strict=True):
            if labels is None:
                out.append(value)
            elif value is None:
                out.extend([None, None])
            elif isinstance(value, Coded):
                out.extend([value.code, value.en if en else value.vi])
            else:
                pair = labels.get(value)
                out.extend([value, pair[en] if pair else value])
        yield out


# ---------------------------------------------------------------------------------------------
# CSV and XLSX


# A spreadsheet reads a cell that starts with one of these as a formula (=1+1, +1, -1, @SUM, and
# a leading tab or carriage return before one): user text must never run in someone's Excel.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(text: str) -> str:
    """CSV: text that a spreadsheet would evaluate gets a leading apostrophe (shown as text)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):  # a moment in Vietnam time with its offset (+07:00)
        return iso_local(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_chunks(rows: Iterable[list], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel reads Vietnamese), in chunks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(v) for v in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[list], path: str | os.PathLike, sheet: str = "data") -> None:
    """An XLSX file written row by row (openpyxl write-only: memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.freeze_panes = "A2"
    iterator = iter(rows)
    header = next(iterator, [])
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = bold
        cells.append(cell)
    worksheet.append(cells)
    for number, row in enumerate(iterator, start=2):
        if number > XLSX_MAX_ROWS:
            raise ValidationFailed(
                "Quá giới hạn 1.048.576 dòng của Excel; hãy lọc bớt, hoặc xuất CSV "
                "hay cơ sở dữ liệu SQLite.",
                "Over Excel's limit of 1,048,576 rows; filter further, or export "
                "CSV or the SQLite database.")
        worksheet.append([_xlsx_cell(worksheet, v) for v in row])
    workbook.save(path)


def _xlsx_cell(worksheet, value):
    """A value for an XLSX row: text is always a text cell (openpyxl would make ``=…`` a formula),
    without the control characters the format cannot hold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime):  # Excel has no time zones: the text, with its +07:00
        return iso_local(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(worksheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def temporary_path(suffix: str) -> str:
    """A fresh temporary file name; the caller streams it and deletes it."""
    fd, path = tempfile.mkstemp(prefix="cchc-export-", suffix=suffix)
    os.close(fd)
    return path


def file_chunks(path: str | os.PathLike, delete: bool = True) -> Iterator[bytes]:
    """A file's bytes in chunks, deleting the file afterwards (also when the client goes away)."""
    try:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                yield block
    finally:
        if delete:
            Path(path).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# SQLite analysis database (sqlite-utils; ready for Datasette)


def write_sqlite(path: str | os.PathLike, batch: int = 5000,
                 progress: Callable[[str, int], None] | None = None) -> dict:
    """Write every unit, plan, trip, inspection, score, observation, recommendation and finding
    to a new SQLite file with foreign keys and full-text search on notes and recommendations.

    The file is built under a temporary name next to `path` and moved into place at the end.
    Returns the number of rows per table.
    """
    import sqlite_utils

    target = Path(path)
    temp = target.with_name(f".{target.name}.part")
    temp.unlink(missing_ok=True)
    out = sqlite_utils.Database(temp)
    out.execute("PRAGMA journal_mode=OFF")
    out.execute("PRAGMA synchronous=OFF")
    counts: dict[str, int] = {}

    def load(name: str, columns: dict, query, pk: str | tuple = "id", foreign_keys=(),
             convert=None) -> None:
        out[name].create(columns, pk=pk, foreign_keys=list(foreign_keys))
        keys = list(columns)

        def records():
            for row in _rows(query):
                values = convert(row) if convert else tuple(row)
                yield dict(zip(keys, values, strict=True))

        out[name].insert_all(records(), batch_size=batch)
        counts[name] = out[name].count
        if progress:
            progress(name, counts[name])

    load("units", {"id": int, "code": str, "name": str, "kind": str, "level": str, "parent_id": int,
                   "valid_from": str, "valid_to": str},
         select(AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.kind, AdminUnit.level,
                AdminUnit.parent_id, AdminUnit.valid_from,
                AdminUnit.valid_to).order_by(AdminUnit.id),
         foreign_keys=[("parent_id", "units", "id")],
         convert=lambda r: (r[0], r[1], r[2], r[3], r[4].value, r[5], _iso(r[6]), _iso(r[7])))
    load("unit_merges", {"unit_id": int, "source_id": int},
         select(unit_merges.c.unit_id, unit_merges.c.source_id).order_by(unit_merges.c.unit_id),
         pk=("unit_id", "source_id"),
         foreign_keys=[("unit_id", "units", "id"), ("source_id", "units", "id")])
    load("plans",
         {"id": int, "number": str, "title": str, "issuer": str, "issued_on": str, "year": int},
         select(Plan.id, Plan.number, Plan.title, Plan.issuer, Plan.issued_on,
                Plan.year).order_by(Plan.id),
         convert=lambda r: (*r[:4], _iso(r[4]), r[5]))
    load("trips",
         {"id": int, "plan_id": int, "name": str, "starts_on": str, "ends_on": str, "place": str,
                   "leader": str},
         select(Trip.id, Trip.plan_id, Trip.name, Trip.starts_on, Trip.ends_on, Trip.place,
                User.full_name)
         .outerjoin(TripMember,
                    and_(TripMember.trip_id == Trip.id, TripMember.role == TripRole.leader))
         .outerjoin(User, User.id == TripMember.user_id).order_by(Trip.id),
         foreign_keys=[("plan_id", "plans", "id")],
         convert=lambda r: (r[0], r[1], r[2], _iso(r[3]), _iso(r[4]), r[5], r[6]))
    load("inspections",
         {"id": int, "trip_id": int, "unit_id": int, "checklist": str, "checklist_version": str,
                         "level": str, "era": str, "scheduled_on": str, "year": int, "state": str,
                         "unit_comments": str},
         select(Inspection.id, Inspection.trip_id, Inspection.unit_id, ChecklistTemplate.code,
                ChecklistVersion.version, ChecklistTemplate.unit_level, ChecklistTemplate.era,
                Inspection.scheduled_on, Inspection.state, Inspection.unit_comments)
         .join(ChecklistVersion, ChecklistVersion.id == Inspection.checklist_version_id)
         .join(ChecklistTemplate,
               ChecklistTemplate.id == ChecklistVersion.template_id).order_by(Inspection.id),
         foreign_keys=[("trip_id", "trips", "id"), ("unit_id", "units", "id")],
         convert=lambda r: (*r[:7], _iso(r[7]), r[7].year, r[8].value, r[9]))
    load("scores", {"inspection_id": int, "points": float, "max_points": float, "percent": float,
                    "class": str, "answered": int, "items": int, "on_time_rate": float,
                    "on_time_met": int,
                    "online_share": float, "signed_share": float, "signed_met": int},
         select(InspectionScore.inspection_id, InspectionScore.total, InspectionScore.max,
                InspectionScore.percent,
                InspectionScore.class_code, InspectionScore.answered, InspectionScore.items,
                InspectionScore.on_time_rate, InspectionScore.on_time_met,
                InspectionScore.online_share,
                InspectionScore.signed_share,
                InspectionScore.signed_met).order_by(InspectionScore.inspection_id),
         pk="inspection_id", foreign_keys=[("inspection_id", "inspections", "id")])
    _load_sections(out, counts, progress, batch)
    load("observations",
         {"id": int, "inspection_id": int, "item_code": str, "result": str, "points": float,
                          "value": float, "text": str, "note": str, "version": int,
                          "updated_by": str,
                          "updated_at": str},
         select(Observation.id, Observation.inspection_id, Observation.item_code,
                Observation.result,
                Observation.points, Observation.value, Observation.text, Observation.note,
                Observation.version,
                User.username, Observation.updated_at)
         .outerjoin(User, User.id == Observation.updated_by_id).order_by(Observation.id),
         foreign_keys=[("inspection_id", "inspections", "id")],
         convert=lambda r: (*r[:10], _iso(r[10])))
    load("recommendations", {"id": int, "inspection_id": int, "unit_id": int, "text": str,
                             "item_codes": str, "due_on": str, "status": str,
                             "followed_up_in_id": int, "follow_up_result": str,
                             "follow_up_evidence": str, "reported_at": str, "report_note": str,
                             "unit_reply": str},
         select(Recommendation.id, Recommendation.inspection_id, Recommendation.unit_id,
                Recommendation.text,
                Recommendation.item_codes, Recommendation.due_on, Recommendation.status,
                Recommendation.followed_up_in_id, Recommendation.follow_up_result,
                Recommendation.follow_up_evidence, Recommendation.reported_at,
                Recommendation.report_note,
                Recommendation.unit_reply).order_by(Recommendation.id),
         foreign_keys=[("inspection_id", "inspections", "id"), ("unit_id", "units", "id"),
                       ("followed_up_in_id", "inspections", "id")],
         convert=lambda r: (*r[:4], " ".join(r[4] or []), _iso(r[5]), r[6].value, *r[7:10],
                            _iso(r[10]), *r[11:]))
    load("findings", {"id": int, "inspection_id": int, "kind": str, "text": str},
         select(Finding.id, Finding.inspection_id, Finding.kind, Finding.text).order_by(Finding.id),
         foreign_keys=[("inspection_id", "inspections", "id")])

    for table, columns in (("observations", ["note", "text"]),
                           ("recommendations", ["text", "follow_up_evidence", "report_note",
                                                "unit_reply"]),
                           ("findings", ["text"])):
        out[table].enable_fts(columns, create_triggers=False,
                              tokenize="unicode61 remove_diacritics 2")
    for table, column in (("inspections", "unit_id"), ("inspections", "trip_id"),
                          ("observations", "inspection_id"),
                          ("observations", "item_code"), ("recommendations", "inspection_id"),
                          ("recommendations", "unit_id"), ("trips", "plan_id")):
        out[table].create_index([column], if_not_exists=True)
    out.execute("PRAGMA journal_mode=DELETE")
    out.conn.commit()
    out.close()
    os.replace(temp, target)
    return counts


def _load_sections(out, counts: dict, progress, batch: int) -> None:
    """Section points, one row per inspection and section (from the snapshots' JSON)."""
    out["section_scores"].create({"inspection_id": int, "section": str, "title": str,
                                  "points": float,
                                  "max_points": float, "percent": float, "skipped": int},
                                 pk=("inspection_id", "section"),
                                 foreign_keys=[("inspection_id", "inspections", "id")])

    titles = {version_id: {s["code"]: s["title_vi"] for s in document["sections"]}
              for version_id,
              document in db.session.execute(select(ChecklistVersion.id,
                                                    ChecklistVersion.document))}

    def records():
        for inspection_id, version_id, sections in _rows(
                select(InspectionScore.inspection_id, Inspection.checklist_version_id,
                       InspectionScore.sections)
                .join(Inspection, Inspection.id == InspectionScore.inspection_id)
                .order_by(InspectionScore.inspection_id)):
            for code, points, maximum, percent in sections or []:
                yield {"inspection_id": inspection_id, "section": code,
                       "title": titles[version_id].get(code),
                       "points": points, "max_points": maximum, "percent": percent,
                       "skipped": int(maximum == 0)}

    out["section_scores"].insert_all(records(), batch_size=batch)
    counts["section_scores"] = out["section_scores"].count
    if progress:
        progress("section_scores", counts["section_scores"])


def _iso(value) -> str | None:
    return iso_local(value)


# ---------------------------------------------------------------------------------------------
# A trip's minutes and photos as one ZIP


def trip_for_archive(user: User, trip: Trip | None) -> Trip:
    """The trip if the user may download its archive: admin, or the trip's leader. Someone who
    cannot see the trip at all gets the same 404 as for a trip that does not exist."""
    sees = trip is not None and (user.role == Role.admin or trip.role_of(user) is not None or (
        user.role == Role.unitrep and any(i.unit_id == user.unit_id for i in trip.inspections)))
    if not sees:
        raise NotFound("Không tìm thấy đợt kiểm tra.", "Trip not found.")
    if user.role != Role.admin and not is_trip_leader(user, trip):
        raise PermissionDenied("Chỉ quản trị viên và trưởng đoàn được tải hồ sơ của đợt kiểm tra.",
                               "Only the secretariat and the trip's leader may "
                               "download the trip's files.")
    return trip


def slug(text: str) -> str:
    """ASCII file-name part: “Xã Cô Ngân” → “xa-co-ngan”."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def archive_name(trip: Trip) -> str:
    """The ZIP file name of a trip's archive: id, start date and name."""
    return f"dot-kiem-tra-{trip.id}-{trip.starts_on:%Y%m%d}-{slug(trip.name)[:60]}.zip"


def write_trip_zip(trip: Trip, path: str | os.PathLike) -> dict:
    """Write the trip's minutes (the current revision of each, signed when signed), the scans
    of minutes signed on paper (kind "paper" in the manifest) and photos, with a manifest.csv,
    to a ZIP file. Files missing from storage are listed as missing."""
    from .storage import StorageError, get_storage

    storage = get_storage()
    inspections = {i.id: i for i in trip.inspections}
    revisions = db.session.scalars(
        select(MinutesRevision).where(
            (MinutesRevision.trip_id == trip.id)
            | MinutesRevision.inspection_id.in_(list(inspections)))
        .order_by(MinutesRevision.inspection_id, MinutesRevision.revision)).all()
    current: dict[int | None, MinutesRevision] = {}
    for revision in revisions:
        if revision.status != "superseded" or revision.inspection_id not in current:
            current[revision.inspection_id] = revision
    manifest = [["path", "kind", "unit", "sha256", "status", "caption", "captured_at"]]
    summary = {"minutes": 0, "paper": 0, "photos": 0, "evidence": 0, "missing": 0}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:

        def add(name: str, sha256: str, kind: str, unit: str, caption: str = "",
                captured=None) -> None:
            try:
                source = storage.open(sha256)
            except StorageError:
                manifest.append([name, kind, unit, sha256, "missing", caption, _iso(captured)])
                summary["missing"] += 1
                return
            with source, archive.open(name, "w", force_zip64=True) as target:
                while block := source.read(CHUNK):
                    target.write(block)
            manifest.append([name, kind, unit, sha256, "ok", caption, _iso(captured)])
            summary[kind if kind in ("minutes", "paper", "evidence") else "photos"] += 1

        for inspection_id, revision in current.items():
            inspection = inspections.get(inspection_id)
            unit = inspection.unit.full_name if inspection else ""
            prefix = f"{inspection.unit.code}-{slug(unit)}" if inspection else "doan"
            signed = revision.signed_sha256 or revision.sha256
            add(f"bien-ban/{prefix}-r{revision.revision}{_signed_suffix(revision)}.pdf",
                signed, "minutes", unit)
        # The scans of minutes signed on paper (every one kept: none replaces another).
        for scan in db.session.scalars(select(PaperMinutes).where(
                PaperMinutes.inspection_id.in_(list(inspections))).order_by(PaperMinutes.id)):
            inspection = inspections[scan.inspection_id]
            unit = inspection.unit.full_name
            add(f"bien-ban/{inspection.unit.code}-{slug(unit)}-r{scan.revision.revision}"
                f"-ky-tren-giay-{scan.id}.pdf", scan.sha256, "paper", unit)
        photos = db.session.scalars(select(Photo).where(Photo.inspection_id.in_(list(inspections)))
                                    .order_by(Photo.inspection_id, Photo.item_code, Photo.id)).all()
        for photo in photos:
            inspection = inspections[photo.inspection_id]
            extension = {"image/png": "png", "image/webp": "webp"}.get(photo.content_type, "jpg")
            name = (f"anh/{inspection.unit.code}-{slug(inspection.unit.full_name)}/"
                    f"{photo.item_code or 'chung'}-{photo.id}.{extension}")
            add(name, photo.sha256, "photo", inspection.unit.full_name, photo.caption,
                photo.captured_at)
        for inspection_id, item_code, evidence in self_assessment_files(list(inspections)):
            inspection = inspections[inspection_id]
            name = (f"tu-danh-gia/{inspection.unit.code}-{slug(inspection.unit.full_name)}/"
                    f"{item_code}-{evidence.id}-{safe_file_name(evidence.filename)}")
            add(name, evidence.sha256, "evidence", inspection.unit.full_name, item_code)
        archive.writestr(zipfile.ZipInfo("manifest.csv",
                                         date_time=datetime.now(VIETNAM_TZ).timetuple()[:6]),
                         b"".join(csv_chunks(manifest)), compress_type=zipfile.ZIP_DEFLATED)
    return summary


def safe_file_name(name: str) -> str:
    """A file name for inside a ZIP: its extension kept, the rest in ASCII (“Kế hoạch.pdf” →
    “ke-hoach.pdf”)."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:8]
    return slug(stem)[:60] + (f".{extension}" if extension else "")


def self_assessment_files(inspection_ids: list[int]):
    """(inspection id, criterion or "chung", evidence) for the files of the submitted
    self-assessments of these inspections: each file once per criterion it supports (once as
    "chung" when it supports none, e.g. an explanation's answer)."""
    assessments = db.session.scalars(
        select(SelfAssessment).where(SelfAssessment.inspection_id.in_(inspection_ids),
                                     SelfAssessment.state == SelfAssessmentState.submitted)
        .order_by(SelfAssessment.inspection_id)).all()
    for assessment in assessments:
        files = {e.id: e for e in assessment.evidence}
        used = set()
        for claim in assessment.claims:
            for evidence_id in claim.evidence_ids or []:
                if evidence_id in files:
                    used.add(evidence_id)
                    yield assessment.inspection_id, claim.item_code, files[evidence_id]
        for evidence_id, evidence in files.items():
            if evidence_id not in used:
                yield assessment.inspection_id, "chung", evidence


def _signed_suffix(revision) -> str:
    """How far the file in the ZIP is signed: by everyone ("-da-ky"), by the leader only
    ("-truong-doan-da-ky", waiting for the unit), or not yet ("")."""
    if revision.status == "signed":
        return "-da-ky"
    return "-truong-doan-da-ky" if revision.signed_sha256 else ""
