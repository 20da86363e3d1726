"""What the minutes print, read from the database: `MinutesData` for an inspection or a trip.

Read-only: nothing here writes to the session. The document number and the revision come in
as parameters (the caller stores revisions). Photos are read through
`inspection.services.storage.path_for(sha256)` when that module exists, or through a
`photo_bytes(photo) -> bytes | None` callable passed in (which wins when given).

The pure helpers (`sections_from_evaluation`, `chart_from_evaluation`, `score_from_evaluation`)
turn a checklist document, observations and `scoring.evaluate` output into the printable
parts, with no database: benchmarks and tests use them directly.
"""
from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, time
from fractions import Fraction
from urllib.parse import urlencode

from sqlalchemy import select

from ..checklists import scoring
from ..extensions import db
from ..models import AdminUnit, Inspection, Photo, Role, Trip, TripRole, User
from ..pdf.data import (
    LEADER_FIELD,
    ChartBar,
    CountRow,
    CriterionRow,
    MinutesData,
    Person,
    PhotoItem,
    RateRow,
    RecommendationItem,
    SampleTable,
    ScoreSummary,
    SectionResult,
    SelfAssessmentRow,
    SelfAssessmentSummary,
    SignatureBlock,
    UnitPart,
    unit_field,
)
from .evaluation import samples_by_group
from .review import findings_of, recommendations_of
from .self_assessment import review_rows, self_score

PhotoBytes = Callable[[Photo], "bytes | None"]

RESULT_LABELS = {
    "pass": "Đạt",
    "partial": "Đạt một phần",
    "fail": "Không đạt",
    "na": "Không áp dụng",
}
NOT_ASSESSED = "Chưa đánh giá"
TEAM_ROLES = {TripRole.leader: "Trưởng đoàn", TripRole.secretary: "Thư ký",
              TripRole.member: "Thành viên"}
TEAM_ORDER = {TripRole.leader: 0, TripRole.member: 1, TripRole.secretary: 2}
DEFAULT_NUMBER = "…/BB-ĐKT"
BLANK_TIME = "… giờ …"
VERIFY_PATH = "/minutes/verify"


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


# --- pure helpers ------------------------------------------------------------------------

def sections_from_evaluation(template: Mapping, observations: Mapping[str, Mapping | None],
                             evaluation: Mapping, *, list_unassessed: bool = False,
                             samples: Mapping | None = None,
                             off_groups=()) -> tuple[SectionResult, ...]:
    """One SectionResult per checklist section, in checklist order.

    yes/no and score items become criteria rows; those not answered are summed up in one line
    per section (`SectionResult.unassessed`), or listed as "Chưa đánh giá" rows when
    `list_unassessed` (the MINUTES_LIST_UNASSESSED setting). A section not assessed at all
    (optional, nothing answered) lists none. Counts with a value (or marked not applicable)
    become count rows; ratios become rate rows; a scored ratio whose counts are not entered
    yet is not assessed (it keeps its points in the maximum), so it joins the section's
    unassessed line, or is listed as a rate row "chưa đủ số liệu" with `list_unassessed`;
    other ratios without counts are left out. Text items and observation notes of counts become
    notes,
    under the item's title without its guidance ("(ví dụ …)"). Photo items are left to the
    appendix.

    What does not apply (a condition is false: `not_applicable` in the evaluation) is printed
    as such: a whole section as a heading marked "không áp dụng" without rows; a criterion as
    a row "Không áp dụng" without points, a rate as "không áp dụng"; counts that do not apply
    are left out. The samples of the section's repeat groups that apply are tables
    (`sample_tables`).
    """
    tables = sample_tables(template, samples, evaluation, off_groups)
    indicators = {i["code"]: i for i in evaluation.get("indicators", [])}
    scored = {s["code"]: s for s in evaluation.get("score", {}).get("sections", [])}
    not_assessed = set(evaluation.get("score", {}).get("not_assessed") or [])
    partial = Fraction(str(template.get("scoring", {}).get("partial_factor", 0.5)))
    sections = []
    for section in template["sections"]:
        summary = scored.get(section["code"], {})
        if summary.get("not_applicable"):
            sections.append(SectionResult(
                code=section["code"], title=section.get("title_vi", section["code"]),
                points=summary.get("points"), max_points=summary.get("max"),
                not_applicable=True))
            continue
        skipped = bool(summary.get("skipped"))
        off = set(summary.get("not_applicable_items") or ())
        criteria, counts, rates, notes, unassessed = [], [], [], [], []
        for item in section["items"]:
            obs = observations.get(item["code"]) or {}
            kind = item["kind"]
            title = answer_label(item.get("title_vi", item["code"]))
            if item["code"] in off:
                if kind in ("yesno", "score"):
                    criteria.append(CriterionRow(item["code"], item.get("title_vi", item["code"]),
                                                 RESULT_LABELS["na"], None, None))
                elif kind == "ratio":
                    rates.append(RateRow(item["code"], title, None, status="na"))
                continue
            if kind in ("yesno", "score"):
                row = _criterion(item, obs, partial)
                if row.result == NOT_ASSESSED and (skipped or not list_unassessed):
                    unassessed.append(row.code)
                else:
                    criteria.append(row)
            elif kind == "count":
                if obs.get("value") is None and obs.get("result") != "na":
                    continue
                note = _nfc(obs.get("note"))
                if obs.get("result") == "na":
                    note = "; ".join(filter(None, ["không áp dụng", note]))
                value = None if obs.get("result") == "na" else obs.get("value")
                counts.append(CountRow(item["code"], title, value, item.get("unit_vi", ""), note))
            elif kind == "ratio":
                indicator = indicators.get(item["code"])
                if indicator is None or indicator["status"] == "missing":
                    if item["code"] in not_assessed and (skipped or not list_unassessed):
                        unassessed.append(item["code"])
                    elif item["code"] in not_assessed:
                        rates.append(RateRow(item["code"], title, None, status="missing",
                                             target=(indicator or {}).get("target")))
                    continue
                rates.append(RateRow(
                    item["code"], title, indicator["value"], indicator["numerator"],
                    indicator["denominator"], indicator["target"], indicator["met"],
                    indicator["status"]))
            elif kind == "text":
                text = _nfc(obs.get("text"))
                if text:
                    notes.append(f"{title}: {text}")
            if kind in ("text", "photo") and _nfc(obs.get("note")):
                notes.append(f"{title}: {_nfc(obs.get('note'))}")
        sections.append(SectionResult(
            code=section["code"], title=section.get("title_vi", section["code"]),
            points=summary.get("points"), max_points=summary.get("max"),
            criteria=tuple(criteria), counts=tuple(counts), rates=tuple(rates),
            notes=tuple(notes), skipped=skipped, unassessed=tuple(unassessed),
            samples=tables.get(section["code"], ())))
    return tuple(sections)


def sample_tables(template: Mapping, samples: Mapping | None, evaluation: Mapping,
                  off_groups=()) -> dict[str, tuple[SampleTable, ...]]:
    """The samples of the repeat groups that apply, as tables by section code: a column per
    field (its Vietnamese title), a row per sample in the order they were added, values as
    people write them (dates dd/mm/yyyy, yes/no "Có"/"Không", numbers with Vietnamese
    separators, an empty field "–"). A group of a section that does not apply, or whose own
    condition is false (`off_groups`), has no table; without samples (None) there are none."""
    if samples is None:
        return {}
    applies = {s["code"]: not s.get("not_applicable")
               for s in evaluation.get("score", {}).get("sections", [])}
    tables: dict[str, list[SampleTable]] = {}
    for group in template.get("repeats") or []:
        if not applies.get(group["section"], True) or group["code"] in set(off_groups):
            continue
        fields = group["fields"]
        rows = tuple(tuple(_sample_value(field["kind"], sample.get(field["code"]))
                           for field in fields)
                     for sample in samples.get(group["code"]) or [])
        tables.setdefault(group["section"], []).append(SampleTable(
            code=group["code"], title=_nfc(group.get("title_vi")) or group["code"],
            columns=tuple(_nfc(field.get("title_vi")) or field["code"] for field in fields),
            rows=rows, minimum=group["min"], maximum=group["max"],
            kinds=tuple(field["kind"] for field in fields)))
    return {code: tuple(found) for code, found in tables.items()}


def with_computed_counts(template: Mapping, observations: Mapping[str, Mapping | None],
                         values: Mapping) -> dict[str, Mapping | None]:
    """The observations with the value of every count that has a formula (``compute``) and a
    value (scoring reads formulas itself; the minutes print the value)."""
    found = dict(observations)
    for section in template["sections"]:
        for item in section["items"]:
            if "compute" in item and values.get(item["code"]) is not None:
                found[item["code"]] = {**(found.get(item["code"]) or {}),
                                       "value": values[item["code"]]}
    return found


def _sample_value(kind: str, value) -> str:
    if value is None or value == "":
        return "–"
    if kind == "yesno":
        return "Có" if value else "Không"
    if kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return _nfc(str(value))
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if kind == "number" and isinstance(value, int | float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return _nfc(str(value))


# Guidance written into an item's title for the inspector: "(ví dụ TCVN ISO 9001:2015)".
_GUIDANCE = re.compile(r"\s*\((?:ví dụ|vd\.?|chẳng hạn|e\.g\.)[^()]*\)", re.IGNORECASE)


def answer_label(title: str) -> str:
    """An item's title as the label of its answer in the minutes, without the guidance meant
    for the inspector: "Phiên bản tiêu chuẩn áp dụng (ví dụ TCVN ISO 9001:2015)" →
    "Phiên bản tiêu chuẩn áp dụng"."""
    return _GUIDANCE.sub("", _nfc(title)).strip()


def _criterion(item: Mapping, obs: Mapping, partial: Fraction) -> CriterionRow:
    result = obs.get("result")
    full = item.get("max_points")
    points = None
    if full is not None and result != "na":
        if item["kind"] == "score" and obs.get("points") is not None:
            points = min(max(float(obs["points"]), 0.0), float(full))
        elif result == "pass":
            points = float(full)
        elif result == "partial":
            points = float(Fraction(str(full)) * partial)
        elif result == "fail":
            points = 0.0
    label = RESULT_LABELS.get(result, NOT_ASSESSED)
    if result is None and item["kind"] == "score" and obs.get("points") is not None:
        label = "Chấm điểm"
    return CriterionRow(item["code"], item.get("title_vi", item["code"]), label, points, full,
                        _nfc(obs.get("note")))


def chart_from_evaluation(evaluation: Mapping) -> tuple[ChartBar, ...]:
    """Bars of the sections that count (not skipped, with a maximum)."""
    return tuple(ChartBar(s["code"], s["points"] or 0.0, s["max"])
                 for s in evaluation.get("score", {}).get("sections", [])
                 if not s.get("skipped") and s.get("max"))


def score_from_evaluation(evaluation: Mapping) -> ScoreSummary | None:
    """The score block of the minutes from an evaluation; None when nothing is scored."""
    score = evaluation.get("score")
    if not score or not score.get("max"):
        return None
    cls = score.get("class") or {}
    label = f"{cls['code']} – {cls['vi']}" if cls.get("code") else ""
    return ScoreSummary(score["total"], score["max"], score.get("percent"), label)


def fmt_time(moment: time | None) -> str:
    """08:00 → "08 giờ 00"; None → "… giờ …" (filled in by hand)."""
    return BLANK_TIME if moment is None else f"{moment.hour:02d} giờ {moment.minute:02d}"


def _date_long(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]


# --- from the database -----------------------------------------------------------------------

def unit_title(unit) -> str:
    """"UBND huyện Hạ Lang", "UBND xã Cô Ngân" (the People's Committee of the unit)."""
    kind = _nfc(unit.kind)
    kind = kind[:1].lower() + kind[1:]
    return f"UBND {kind} {_nfc(unit.name)}".replace("  ", " ")


def _observations(inspection: Inspection) -> dict[str, dict]:
    return {o.item_code: {"result": o.result, "points": o.points, "value": o.value,
                          "text": o.text, "note": o.note}
            for o in inspection.observations}


def _team(trip: Trip, present: Iterable[int] | None = None) -> tuple[Person, ...]:
    """The team in section I.1, in its order; only those ``present`` (user ids) at the meeting
    when that was recorded (None: the whole team)."""
    members = sorted(trip.members, key=lambda m: (TEAM_ORDER.get(m.role, 9), m.id))
    if present is not None:
        wanted = set(present)
        members = [m for m in members if m.user_id in wanted]
    return tuple(Person(_nfc(m.user.full_name), _nfc(m.user.position), TEAM_ROLES.get(m.role, ""))
                 for m in members)


def _representatives(inspection: Inspection) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.unitrep, User.unit_id == inspection.unit_id,
                           User.active.is_(True)).order_by(User.id)))


def _storage_reader() -> Callable[[Photo], PhotoItem | None] | None:
    """photo → PhotoItem with a path, through inspection.services.storage if it exists."""
    try:
        storage = importlib.import_module("inspection.services.storage")
    except ImportError:
        return None
    path_for = getattr(storage, "path_for", None)
    if path_for is None:
        return None

    def read(photo: Photo):
        try:
            path = path_for(photo.sha256)
        except Exception:  # noqa: BLE001 - a missing file prints as a placeholder
            return None
        return str(path) if path is not None else None

    return read


def _photos(inspection: Inspection, photo_bytes: PhotoBytes | None,
            place: str = "") -> tuple[PhotoItem, ...]:
    photos = db.session.scalars(select(Photo).where(Photo.inspection_id == inspection.id)
                                .order_by(Photo.captured_at, Photo.id)).all()
    if not photos:
        return ()
    storage_path = None if photo_bytes is not None else _storage_reader()
    titles = {item["code"]: answer_label(item.get("title_vi", item["code"]))
              for section in inspection.checklist_version.document["sections"]
              for item in section["items"]}
    items = []
    for photo in photos:
        data = path = None
        if photo_bytes is not None:
            try:
                data = photo_bytes(photo)
            except Exception:  # noqa: BLE001
                data = None
        elif storage_path is not None:
            path = storage_path(photo)
        captured = photo.captured_at
        if captured is not None and captured.tzinfo is None:  # SQLite drops the zone: UTC
            captured = captured.replace(tzinfo=UTC)
        items.append(PhotoItem(caption=_nfc(photo.caption), data=data, path=path,
                               captured_at=captured, latitude=photo.latitude,
                               longitude=photo.longitude, item_code=photo.item_code or "",
                               item_title=titles.get(photo.item_code or "", ""), place=place,
                               visit_date=inspection.scheduled_on))
    return tuple(items)


def _officials(inspection: Inspection) -> list[Person]:
    """The unit's officials present, as written on the minutes form."""
    people = []
    for row in inspection.unit_officials or []:
        if isinstance(row, Mapping) and _nfc(row.get("name")):
            people.append(Person(_nfc(row.get("name")), _nfc(row.get("position"))))
    return people


def _unit_part(inspection: Inspection, *, single: bool, index: int, start_time: time | None,
               report_due: date | None, photo_bytes: PhotoBytes | None,
               team_name: str, list_unassessed: bool = False) -> UnitPart:
    unit_name = unit_title(inspection.unit)
    template = inspection.checklist_version.document
    observations = _observations(inspection)
    samples = samples_by_group(inspection)
    unit = scoring.unit_facts(inspection.unit)
    # Counts with a formula (over other counts or the samples) print their computed value.
    found = scoring.applicability(template, observations, unit=unit, samples=samples)
    observations = with_computed_counts(template, observations, found["values"])
    evaluation = scoring.evaluate(template, observations, unit=unit, samples=samples,
                                  confirmed_unanswered=inspection.approval_confirmed_partial)
    year = inspection.trip.plan.year
    opening = "Hôm nay, vào hồi" if single else "Vào hồi"
    time_place = (f"{opening} {fmt_time(start_time)} {_date_long(inspection.scheduled_on)}, "
                  f"tại trụ sở {unit_name}, {team_name} tiến hành kiểm tra công tác cải cách "
                  f"hành chính năm {year} tại {unit_name} như sau:")

    # Section I.2 names the officials written on the minutes form; without them, the unit's
    # accounts. The signature block is the representative's account (who signs), else the
    # first official present.
    reps = [Person(_nfc(u.full_name), _nfc(u.position)) for u in _representatives(inspection)]
    officials = _officials(inspection)
    representatives = tuple(officials or reps)
    first = reps[0] if reps else (officials[0] if officials else None)
    position = first.position if first else ""
    if single:
        heading = ("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA",) + ((position.upper(),) if position else ())
    else:
        heading = (f"ĐẠI DIỆN {unit_name.upper()}",)
        if position and unit_name.upper() not in position.upper():
            heading += (position.upper(),)
    signature = SignatureBlock(heading, first.name if first else "", unit_field(index))

    findings = findings_of(inspection)
    recommendations = recommendations_of(inspection)
    due_dates = [r.due_on for r in recommendations if r.due_on is not None]
    return UnitPart(
        unit_name=unit_name, time_place=time_place, representatives=representatives,
        sections=sections_from_evaluation(template, observations, evaluation,
                                          list_unassessed=list_unassessed, samples=samples,
                                          off_groups=found["not_applicable"]["groups"]),
        score=score_from_evaluation(evaluation), chart=chart_from_evaluation(evaluation),
        strengths=tuple(_nfc(f.text) for f in findings if f.kind == "strength"),
        weaknesses=tuple(_nfc(f.text) for f in findings if f.kind == "weakness"),
        recommendations=tuple(RecommendationItem(_nfc(r.text), r.due_on) for r in recommendations),
        report_due=(report_due or inspection.report_due or inspection.trip.report_due
                    or (max(due_dates) if due_dates else None)),
        unit_comments=_nfc(inspection.unit_comments),
        assessment_remark=assessment_remark(evaluation["score"], inspection.approval_reason),
        photos=_photos(inspection, photo_bytes, f"trụ sở {unit_name}"), signature=signature,
        self_assessment=self_assessment_summary(inspection, observations, evaluation))


def _said(fields: Mapping | None) -> str:
    """A claim's or an observation's value as the minutes print it."""
    if not fields:
        return NOT_ASSESSED
    parts = []
    if fields.get("result"):
        parts.append(RESULT_LABELS.get(fields["result"], fields["result"]))
    for key in ("points", "value"):
        if fields.get(key) is not None:
            number = fields[key]
            parts.append(f"{number:g}".replace(".", ",") if key == "value"
                         else f"{number:g} điểm".replace(".", ","))
    if fields.get("text"):
        parts.append(_nfc(fields["text"]))
    return ", ".join(parts) or NOT_ASSESSED


def self_assessment_summary(inspection: Inspection, observations: Mapping,
                            evaluation: Mapping) -> SelfAssessmentSummary | None:
    """The unit's submitted self-assessment against the appraisal (None when none was
    submitted): both totals and the criteria that differ."""
    claimed = self_score(inspection)
    if claimed is None:
        return None
    rows = tuple(
        SelfAssessmentRow(code=row["code"], title=_nfc(row["title_vi"]),
                          claimed=_said(row["self"]), appraised=_said(row["appraised"]),
                          claimed_points=row["self_points"],
                          appraised_points=row["appraised_points"])
        for row in review_rows(inspection, observations) if row["differs"])
    score = evaluation["score"]
    return SelfAssessmentSummary(
        self_points=claimed["total"], self_max=claimed["max"], self_percent=claimed["percent"],
        appraised_points=score["total"], appraised_max=score["max"],
        appraised_percent=score["percent"], rows=rows)


def assessment_remark(score: Mapping, reason: str | None) -> str:
    """"Ghi chú: …" when criteria were left not assessed: how many of how many, which, and the
    leader's reason for approving anyway (empty when every criterion was assessed)."""
    if not score.get("partial"):
        return ""
    missing = score.get("not_assessed") or []
    text = (f"Ghi chú: đã đánh giá {score['assessed']}/{score['items']} tiêu chí; "
            f"{len(missing)} tiêu chí chưa được đánh giá ({', '.join(missing)}) không được tính "
            "điểm.")
    if reason:
        reason = _nfc(reason).rstrip(".")
        text += f" Trưởng đoàn duyệt kết quả khi chưa đánh giá đủ, lý do: {reason}."
    return text


def _common(trip: Trip) -> dict:
    plan = trip.plan
    province = plan.province
    province_name = (f"{_nfc(province.kind)[:1].lower()}{_nfc(province.kind)[1:]} "
                     f"{_nfc(province.name)}" if province else "")
    basis = []
    plan_title = _nfc(plan.title)
    about = plan_title[len("Kế hoạch"):].strip() if plan_title.lower().startswith("kế hoạch") \
        else plan_title
    line = (f"Căn cứ Kế hoạch số {_nfc(plan.number)} ngày {plan.issued_on:%d/%m/%Y} "
            f"của {_nfc(plan.issuer)}")
    basis.append(line + (f" về {about};" if about else ";"))
    decision = decision_basis(trip.decision, trip.decision_number, trip.decision_date)
    if decision:
        basis.append(decision)
    leader = trip.leader
    return {
        "issuing_body": (f"UBND {province_name}".upper().strip() if province else "UBND TỈNH",
                         "ĐOÀN KIỂM TRA CCHC"),
        "legal_basis": tuple(basis),
        "team": _team(trip),
        "leader_signature": SignatureBlock(("TRƯỞNG ĐOÀN KIỂM TRA",),
                                           _nfc(leader.full_name) if leader else "", LEADER_FIELD),
        "team_name": ("Đoàn kiểm tra công tác cải cách hành chính"
                      + (f" {province_name}" if province_name else "")),
    }


def decision_basis(text: str | None, number: str | None, issued_on: date | None) -> str:
    """The "Căn cứ Quyết định số 1520/QĐ-UBND ngày 20/09/2021 …;" line of the team's decision
    (Quyết định thành lập Đoàn), "" when nothing of it is recorded. `text` says what the
    decision is ("Quyết định thành lập Đoàn kiểm tra … của UBND tỉnh Cao Bằng")."""
    text, number = _nfc(text).rstrip(" ;."), _nfc(number)
    if not number and issued_on is None:
        return f"Căn cứ {text[:1].upper()}{text[1:]};" if text else ""
    rest = re.sub(r"^quyết định\s*", "", text, flags=re.IGNORECASE)
    rest = re.sub(r"^số\s+\S+\s*", "", rest, flags=re.IGNORECASE) if number else rest
    line = "Căn cứ Quyết định"
    if number:
        line += f" số {number}"
    if issued_on is not None:
        line += f" ngày {issued_on:%d/%m/%Y}"
    if rest.lower().startswith("thành lập"):
        rest = "về việc " + rest
    return f"{line} {rest or 'về việc thành lập Đoàn kiểm tra'};"


def _qr_url(base_url: str, **query) -> str:
    if not base_url:
        return ""
    query = {k: v for k, v in query.items() if v is not None}
    return f"{base_url.rstrip('/')}{VERIFY_PATH}?{urlencode(query)}"


CLOSING_ONE = ("Buổi kiểm tra kết thúc vào hồi {end} cùng ngày. Biên bản đã được đọc lại cho các "
               "thành phần tham dự cùng nghe và nhất trí thông qua. Biên bản được lập thành 02 bản "
               "có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, đơn vị được kiểm tra giữ 01 bản.")
CLOSING_TRIP = ("Đợt kiểm tra kết thúc vào hồi {end} {day}. Biên bản đã được đọc lại cho các thành "
                "phần tham dự cùng nghe và nhất trí thông qua. Biên bản "
                "được lập thành {copies:02d} "
                "bản có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, mỗi đơn vị được kiểm tra giữ "
                "01 bản.")


def minutes_data_for_inspection(inspection: Inspection, base_url: str, *,
                                document_number: str = DEFAULT_NUMBER,
                                revision: int | None = None,
                                photo_bytes: PhotoBytes | None = None,
                                start_time: time | None = None, end_time: time | None = None,
                                report_due: date | None = None,
                                list_unassessed: bool = False) -> MinutesData:
    """The minutes of one inspected unit.

    `base_url` (e.g. "https://cchc.caobang.gov.vn") makes the QR code lead to
    `{base_url}/minutes/verify?inspection=ID&revision=N`; "" leaves the QR code out.
    The start and end of the meeting default to those kept on the inspection; unknown, they
    print as "… giờ …". `report_due` defaults to the one written on the minutes form (the
    inspection's, else the trip's), else the latest due date of the recommendations.
    `list_unassessed` lists unanswered criteria as rows instead of one line per section.
    """
    trip = inspection.trip
    start_time = start_time or inspection.meeting_start
    end_time = end_time or inspection.meeting_end
    common = _common(trip)
    if inspection.team_present is not None:  # recorded at the meeting (tablet or office)
        common["team"] = _team(trip, inspection.team_present)
    part = _unit_part(inspection, single=True, index=1, start_time=start_time,
                      report_due=report_due, photo_bytes=photo_bytes,
                      team_name=common.pop("team_name"), list_unassessed=list_unassessed)
    return MinutesData(
        **common, document_number=_nfc(document_number) or DEFAULT_NUMBER,
        place=_nfc(trip.place) or _nfc(inspection.unit.name), date=inspection.scheduled_on,
        summary=(f"Kiểm tra công tác cải cách hành chính năm {trip.plan.year} "
                 f"tại {part.unit_name}"),
        parts=(part,), closing=CLOSING_ONE.format(end=fmt_time(end_time)),
        qr_url=_qr_url(base_url, inspection=inspection.id, revision=revision),
        revision=revision, recipients=recipient_lines(inspection.recipients))


def _last_end(inspections: list[Inspection]) -> time | None:
    """When the trip's last meeting ended: on its last day, the latest end time kept."""
    last_day = max(i.scheduled_on for i in inspections)
    ends = [i.meeting_end for i in inspections if i.scheduled_on == last_day and i.meeting_end]
    return max(ends) if ends else None


def minutes_data_for_trip(trip: Trip, base_url: str, *, document_number: str = DEFAULT_NUMBER,
                          revision: int | None = None, photo_bytes: PhotoBytes | None = None,
                          inspections: Iterable[Inspection] | None = None,
                          report_due: date | None = None,
                          list_unassessed: bool = False) -> MinutesData:
    """One document for a whole trip (e.g. Hạ Lang district and its communes): one part per
    inspected unit, in the trip's order (district first), team and signatures once.

    `inspections` narrows the units (default: every inspection of the trip).
    """
    chosen = list(inspections) if inspections is not None else list(trip.inspections)
    if not chosen:
        raise ValueError("the trip has no inspection to put in the minutes")
    level_order = {"province": 0, "district": 1, "commune": 2}
    chosen.sort(key=lambda i: (level_order.get(str(getattr(i.unit.level, "value", i.unit.level)),
                                               9),
                               i.scheduled_on, i.id))
    common = _common(trip)
    if all(i.team_present is not None for i in chosen):  # everyone present at some meeting
        common["team"] = _team(trip, {u for i in chosen for u in i.team_present})
    team_name = common.pop("team_name")
    report_due = report_due or trip.report_due  # the trip minutes' deadline, for every unit
    parts = tuple(_unit_part(inspection, single=False, index=n, start_time=inspection.meeting_start,
                             report_due=report_due, photo_bytes=photo_bytes, team_name=team_name,
                             list_unassessed=list_unassessed)
                  for n, inspection in enumerate(chosen, 1))
    return MinutesData(
        **common, document_number=_nfc(document_number) or DEFAULT_NUMBER,
        place=_nfc(trip.place) or _nfc(chosen[0].unit.name), date=trip.starts_on,
        summary=(f"Kiểm tra công tác cải cách hành chính năm {trip.plan.year} "
                 f"tại {_join([p.unit_name for p in parts])}"),
        parts=parts,
        closing=CLOSING_TRIP.format(end=fmt_time(_last_end(chosen)), day=_date_long(trip.ends_on),
                                    copies=len(parts) + 1),
        qr_url=_qr_url(base_url, trip=trip.id, revision=revision), revision=revision,
        recipients=recipient_lines(trip.recipients))


def recipient_lines(text: str | None) -> tuple[str, ...]:
    """The "Nơi nhận" block's lines: one recipient a line, leading dashes dropped."""
    return tuple(line for line in (_nfc(raw).lstrip("-–• ").strip()
                                   for raw in (text or "").splitlines()) if line)


def draft_heads(inspections: list[Inspection], *, list_unassessed: bool = False
                ) -> dict[int, dict]:
    """``draft_head`` of each inspection, by id, in a fixed number of queries (the units'
    representatives and the plans' provinces are read once for all)."""
    unit_ids = {i.unit_id for i in inspections}
    reps: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(
            User.role == Role.unitrep, User.unit_id.in_(unit_ids), User.active.is_(True))
            .order_by(User.id)) if unit_ids else ():
        reps.setdefault(user.unit_id, []).append(user)
    provinces = {i.trip.plan.province_id for i in inspections} - {None}
    if provinces:  # into the identity map: each plan's province then loads without a query
        db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(provinces))).all()
    return {i.id: draft_head(i, list_unassessed=list_unassessed,
                             representatives=reps.get(i.unit_id, []))
            for i in inspections}


def draft_head(inspection: Inspection, *, list_unassessed: bool = False,
               representatives: list[User] | None = None) -> dict:
    """What the field app's draft minutes print besides the results and the closing data, in the
    words of the PDF (static/js/minutes.js puts them together offline): header, legal basis,
    the team (with user ids, to keep only those recorded present), the unit's accounts (section
    I.2 when no official is written), the signature blocks, the reporting deadline and
    recipients of the minutes form, and the approval's reason when criteria were confirmed
    unassessed. Read-only."""
    trip = inspection.trip
    common = _common(trip)
    members = sorted(trip.members, key=lambda m: (TEAM_ORDER.get(m.role, 9), m.id))
    if representatives is None:
        representatives = _representatives(inspection)
    reps = [{"name": _nfc(u.full_name), "position": _nfc(u.position)} for u in representatives]
    leader = common["leader_signature"]
    return {
        "issuing_body": list(common["issuing_body"]),
        "legal_basis": list(common["legal_basis"]),
        "team_name": common["team_name"],
        "team": [{"user_id": m.user_id, "name": _nfc(m.user.full_name),
                  "position": _nfc(m.user.position), "role": TEAM_ROLES.get(m.role, "")}
                 for m in members],
        "leader_name": leader.name,
        "unit_name": unit_title(inspection.unit),
        "representatives": reps,
        "place": _nfc(trip.place) or _nfc(inspection.unit.name),
        "year": trip.plan.year,
        "document_number": DEFAULT_NUMBER,
        "report_due": _iso_day(inspection.report_due or trip.report_due),
        "report_to": "Sở Nội vụ",
        "recipients": list(recipient_lines(inspection.recipients)),
        "approval_reason": _nfc(inspection.approval_reason) or None,
        "confirmed_unanswered": bool(inspection.approval_confirmed_partial),
        "list_unassessed": list_unassessed,
    }


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


__all__ = [
    "answer_label", "chart_from_evaluation", "decision_basis", "draft_head", "draft_heads",
    "recipient_lines",
    "minutes_data_for_inspection", "minutes_data_for_trip",
    "score_from_evaluation", "sections_from_evaluation", "unit_title",
]
