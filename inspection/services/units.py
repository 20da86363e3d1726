"""Importing administrative units from CSV (idempotent), and looking them up by date."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlite_utils.utils import Format, RowError, rows_from_file

from ..errors import ValidationFailed
from ..extensions import db
from ..models import AdminUnit, Inspection, UnitLevel
from .text import TextRefused, check_text, clean_text, over_limit

COLUMNS = ("code", "name", "kind", "level", "parent_code", "valid_from", "valid_to", "merged_from")
REQUIRED = ("code", "name", "kind", "level", "valid_from")
# GSO codes: 2 digits for a province, 3 for a district, 5 for a commune.
CODE_DIGITS = {UnitLevel.province: 2, UnitLevel.district: 3, UnitLevel.commune: 5}
LEVEL_RANK = {UnitLevel.province: 0, UnitLevel.district: 1, UnitLevel.commune: 2}


@dataclass
class ImportReport:
    """What an import did: counts, and each rejected line with its reason."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """The import's counts in one line, for the command line."""
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.rejected)} rejected")


def read_units_csv(data: bytes) -> list[tuple[int, dict]]:
    """Parse a units CSV (UTF-8, header row) into (line number, row) pairs.

    Raises ValidationFailed for a file that is not UTF-8 or lacks required columns: such a
    file changes nothing.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"Tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start}). Hãy "
            f"lưu lại tệp CSV dạng UTF-8.",
            f"The file is not UTF-8 (bad byte at offset {exc.start}). Save the CSV as UTF-8.",
        ) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in REQUIRED if c not in [h.strip() for h in header]]
    if missing:
        raise ValidationFailed(
            "Thiếu cột bắt buộc: " + ", ".join(missing),
            "Missing required columns: " + ", ".join(missing),
        )
    rows, _ = rows_from_file(io.BytesIO(text.encode("utf-8")), Format.CSV, dialect=csv.excel)
    try:
        return [(number, {k.strip(): (v or "").strip() for k, v in row.items()})
                for number, row in enumerate(rows, start=2)]
    except RowError as exc:
        raise ValidationFailed(f"Dòng có nhiều cột hơn tiêu đề: {exc}",
                               f"A row has more fields than the header: {exc}") from exc


def import_units(data: bytes) -> ImportReport:
    """Add or update units from CSV bytes; re-importing the same file changes nothing."""
    report = ImportReport()
    parsed = []
    for line, row in read_units_csv(data):
        try:
            parsed.append((line, _clean(row)))
        except ValueError as exc:
            report.rejected.append((line, str(exc)))
    # Earlier eras and higher levels first, so parents and merge sources exist when needed.
    parsed.sort(key=lambda p: (p[1]["valid_from"], LEVEL_RANK[p[1]["level"]], p[0]))
    for line, row in parsed:
        try:
            with db.session.begin_nested():
                _, outcome = _upsert(row)
        except ValueError as exc:
            report.rejected.append((line, str(exc)))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
    report.rejected.sort()
    return report


def _clean(row: dict) -> dict:
    for column in REQUIRED:
        if not row.get(column):
            raise ValueError(f"thiếu giá trị cột '{column}' / missing '{column}'")
    try:
        level = UnitLevel(row["level"])
    except ValueError:
        raise ValueError(f"cấp không hợp lệ '{row['level']}' "
                         f"(province, district, commune)") from None
    code = row["code"]
    if not re.fullmatch(rf"\d{{{CODE_DIGITS[level]}}}", code):
        raise ValueError(f"mã '{code}' không hợp lệ: mã {level.value} gồm "
                         f"{CODE_DIGITS[level]} chữ số")
    valid_from = _date(row["valid_from"], "valid_from")
    valid_to = _date(row["valid_to"], "valid_to") if row.get("valid_to") else None
    if valid_to is not None and valid_to < valid_from:
        raise ValueError("valid_to trước valid_from / valid_to is before valid_from")
    if level != UnitLevel.province and not row.get("parent_code"):
        raise ValueError("thiếu đơn vị cấp trên (parent_code) / missing parent_code")
    try:
        name, kind = (clean_text(row[column], single_line=True, field=column).strip()
                      for column in ("name", "kind"))
        for column in ("code", "parent_code", "merged_from", "valid_from", "valid_to"):
            check_text(row.get(column), column)
    except TextRefused as exc:
        raise ValueError(f"{exc.message_vi} / {exc.message_en}") from None
    for column, text, label in (("name", name, "tên"), ("kind", kind, "loại")):
        if limit := over_limit(text, getattr(AdminUnit, column)):
            raise ValueError(f"{label} dài quá {limit} ký tự / {column} over {limit} characters")
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "level": level,
        "parent_code": row.get("parent_code") or None,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "merged_from": [c for c in re.split(r"[\s;|]+", row.get("merged_from") or "") if c],
    }


def _date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"ngày không hợp lệ ở cột '{column}': '{text}' (YYYY-MM-DD)") from None


def unit_valid_on(code: str, day: date) -> AdminUnit | None:
    """The version of the unit with this GSO code that existed on the given day."""
    return db.session.scalar(
        AdminUnit.valid_on_query(day).where(AdminUnit.code == code)
        .order_by(AdminUnit.valid_from.desc())
    )


def unit_for_representative(code: str, valid_on: date | None = None) -> AdminUnit | None:
    """The version of the unit with this GSO code a representative speaks for: the one valid on
    `valid_on` when given; else the latest version that has inspections (Hạ Lang district, 048,
    abolished in 2025, has only its 2020 version); else the one valid today; else the latest."""
    if valid_on is not None:
        return unit_valid_on(code, valid_on)
    versions = db.session.scalars(select(AdminUnit).where(AdminUnit.code == code)
                                  .order_by(AdminUnit.valid_from.desc())).all()
    if not versions:
        return None
    inspected = set(db.session.scalars(select(Inspection.unit_id).where(
        Inspection.unit_id.in_([v.id for v in versions]))))
    return (next((v for v in versions if v.id in inspected), None)
            or next((v for v in versions if v.is_valid_on(date.today())), None) or versions[0])


def units_by_level() -> list[tuple[UnitLevel, list[AdminUnit]]]:
    """Every unit of every era, grouped by level (province, district, commune) and ordered by
    name, then the newest version first: for choosing the unit an account represents."""
    units = db.session.scalars(select(AdminUnit).order_by(
        AdminUnit.name, AdminUnit.code, AdminUnit.valid_from.desc())).all()
    return [(level, [u for u in units if u.level == level]) for level in LEVEL_RANK
            if any(u.level == level for u in units)]


def save_unit(row: dict[str, str]) -> tuple[AdminUnit, str]:
    """Add or update one unit from a row of strings (a CSV line or a form).

    Returns the unit and "added", "updated" or "unchanged"; raises ValueError with a reason.
    """
    return _upsert(_clean({k: (v or "").strip() for k, v in row.items()}))


def _upsert(row: dict) -> tuple[AdminUnit, str]:
    parent = None
    if row["parent_code"]:
        parent = unit_valid_on(row["parent_code"], row["valid_from"])
        if parent is None:
            raise ValueError(f"không có đơn vị cấp trên mã '{row['parent_code']}' vào ngày "
                             f"{row['valid_from']:%d/%m/%Y} / unknown parent")
        if LEVEL_RANK[parent.level] >= LEVEL_RANK[row["level"]]:
            raise ValueError(f"đơn vị cấp trên '{row['parent_code']}' không ở cấp cao hơn / "
                             "parent is not at a higher level")
    sources = []
    day_before = row["valid_from"] - timedelta(days=1)
    for code in row["merged_from"]:
        source = unit_valid_on(code, day_before)
        if source is None:
            raise ValueError(f"không có đơn vị mã '{code}' còn hiệu lực ngày {day_before:%d/%m/%Y} "
                             "để sáp nhập / unknown merge source")
        sources.append(source)

    unit = db.session.scalar(
        select(AdminUnit).where(AdminUnit.code == row["code"],
                                AdminUnit.valid_from == row["valid_from"])
    )
    values = {k: row[k] for k in ("name", "kind", "level", "valid_to")}
    if unit is None:
        unit = AdminUnit(code=row["code"], valid_from=row["valid_from"], parent=parent, **values)
        unit.merged_from = sources
        db.session.add(unit)
        outcome = "added"
    elif (any(getattr(unit, k) != v for k,
              v in values.items()) or unit.parent_id != (parent.id if parent else None)
          or {u.id for u in unit.merged_from} != {u.id for u in sources}):
        for key, value in values.items():
            setattr(unit, key, value)
        unit.parent = parent
        unit.merged_from = sources
        outcome = "updated"
    else:
        outcome = "unchanged"
    db.session.flush()
    return unit, outcome
