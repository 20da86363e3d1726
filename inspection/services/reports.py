"""Province-wide reports: inspections by plan, trip, unit and state; the ranking of units with
their change since the last inspection; indicators against targets; the recommendations list.

Read from the score snapshots (``InspectionScore``), never by re-evaluating inspections, so a
page stays fast with a whole country's data. Who sees what:

- admin (the secretariat) and leaders (the department's leadership heading the teams) see the
  whole province;
- inspectors see the inspections of trips they are on;
- a unit representative sees their own unit.

A ranking is always computed over every unit (ranks are the published order); people who do
not see the whole province get only the rows they may see, with their rank in the full table.

Ranking rules: units are ranked per year (of the scheduled date), level (district, commune) and
era (3cap, 2cap: from the checklist). Only approved or signed inspections count; a unit
inspected twice in a year is ranked on its latest inspection. Order: fully assessed units
first, then those approved with criteria not assessed (``partial``, with ``assessed`` of
``criteria``), so a partial assessment never ranks above a full one; within each, percent
descending, then name; equal percents share a rank (1, 2, 2, 4). ``previous`` is the percent of
the unit's latest earlier approved inspection; a unit with none of its own that was formed by
merging others (the 2025 reorganisation) takes the mean of the units it absorbed, each at its
latest earlier inspection, followed back through earlier mergers. ``previous_detail`` lists
what was used.
"""
from __future__ import annotations

import gc
import json
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Text, and_, case, cast, false, func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import PermissionDenied
from ..extensions import db
from ..localtime import VIETNAM_TZ
from ..models import (
    AdminUnit,
    ChecklistVersion,
    Inspection,
    InspectionScore,
    InspectionState,
    Plan,
    Recommendation,
    RecommendationStatus,
    Role,
    Trip,
    TripMember,
    TripRole,
    User,
    unit_merges,
)
from .self_assessment import with_self_scores

RANKED_STATES = (InspectionState.approved, InspectionState.signed)
INDICATORS = (
    # name, snapshot column prefix, Vietnamese, English
    ("on_time_rate", "on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Dossiers resolved on time"),
    ("online_share", "online", "Tỷ lệ hồ sơ tiếp nhận trực tuyến", "Dossiers received online"),
    ("signed_share", "signed", "Tỷ lệ văn bản đi ký số", "Outgoing documents digitally signed"),
)
LOCAL_TZ = VIETNAM_TZ


def local_today() -> date:
    """Today in Vietnam (due dates are Vietnamese calendar days)."""
    return datetime.now(LOCAL_TZ).date()


# ---------------------------------------------------------------------------------------------
# Who sees what


def sees_province(user: User) -> bool:
    """The secretariat and leaders see every inspection in the reports."""
    return user.role in (Role.admin, Role.leader)


def visible_condition(user: User):
    """A condition on Inspection for what the user sees in reports; None means everything."""
    if sees_province(user):
        return None
    if user.role == Role.inspector:
        return Inspection.trip_id.in_(select(TripMember.trip_id)
                                      .where(TripMember.user_id == user.id))
    if user.role == Role.unitrep and user.unit_id is not None:
        return Inspection.unit_id == user.unit_id
    return false()


def export_condition(user: User):
    """A condition on Inspection for what the user may export; None means everything.

    Admin exports everything, a leader the trips they lead; anyone else is refused.
    """
    if user.role == Role.admin:
        return None
    if user.role == Role.leader:
        return Inspection.trip_id.in_(select(TripMember.trip_id).where(
            TripMember.user_id == user.id, TripMember.role == TripRole.leader))
    raise PermissionDenied(
        "Chỉ quản trị viên (Sở Nội vụ) và trưởng đoàn được xuất dữ liệu; trưởng đoàn xuất dữ liệu "
        "các đợt mình phụ trách.",
        "Only the secretariat (admin) and team leaders may export data; a leader "
        "exports the trips they lead.")


def _where(query, condition):
    return query if condition is None else query.where(condition)


def _unit(unit_id: int, code: str, kind: str, name: str) -> dict:
    return {"id": unit_id, "code": code, "name": name, "full_name": f"{kind} {name}"}


# ---------------------------------------------------------------------------------------------
# Ranking


def ranking_options() -> dict:
    """The years, levels and eras for which there are ranked results, newest year first."""
    rows = db.session.execute(
        select(InspectionScore.year, InspectionScore.level, InspectionScore.era,
               func.max(InspectionScore.scheduled_on))
        .join(Inspection, Inspection.id == InspectionScore.inspection_id)
        .where(Inspection.state.in_(RANKED_STATES), InspectionScore.percent.is_not(None))
        .group_by(InspectionScore.year, InspectionScore.level, InspectionScore.era)).all()
    return {"groups": {(y, lv, e): latest for y, lv, e, latest in rows},
            "years": sorted({r[0] for r in rows}, reverse=True)}


def resolve_ranking_filters(year: int | None = None, level: str | None = None,
                            era: str | None = None) -> dict:
    """Fill in defaults: the latest year with results, communes, and the era of that year's
    latest inspections (2025 has both: communes of the 3-level model before 1/7, of the 2-level
    model after). Returns {year, level, era, years, eras}."""
    options = ranking_options()
    groups = options["groups"]
    level = level or "commune"
    if year is None:
        years = sorted({y for (y, lv, _e) in groups if lv == level}, reverse=True)
        year = years[0] if years else local_today().year
    eras = sorted((e for (y, lv, e) in groups if y == year and lv == level),
                  key=lambda e: groups[(year, level, e)], reverse=True)
    if era is None:
        era = eras[0] if eras else ("2cap" if year > 2025 else "3cap")
    return {"year": year, "level": level, "era": era, "years": options["years"], "eras": eras}


_RANKING_COLUMNS = (
    InspectionScore.inspection_id, InspectionScore.unit_id, InspectionScore.scheduled_on,
    InspectionScore.era,
    InspectionScore.total, InspectionScore.max, InspectionScore.percent, InspectionScore.class_code,
    InspectionScore.class_vi, InspectionScore.class_en,
    InspectionScore.assessed, InspectionScore.criteria, InspectionScore.partial,
    # As text, decoded below in one call: thousands of small json.loads calls cost more.
    cast(InspectionScore.sections, Text).label("sections"),
    InspectionScore.on_time_rate, InspectionScore.on_time_target, InspectionScore.on_time_met,
    InspectionScore.online_share, InspectionScore.online_target, InspectionScore.online_met,
    InspectionScore.signed_share, InspectionScore.signed_target, InspectionScore.signed_met,
    AdminUnit.code, AdminUnit.kind, AdminUnit.name,
)


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while a ranking builds its rows.

    A national ranking creates some 60,000 small containers; with the app's many long-lived
    objects, the full collections they trigger cost more than building the rows (about a third
    of the time). Nothing here makes reference cycles, and collection resumes right after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ranking(user: User, year: int, level: str, era: str) -> list[dict]:
    """The ranked units for (year, level, era), as the user may see them (see module doc)."""
    with _collector_paused():
        return _full_rows(_ranked_rows(user, year, level, era, with_sections=True), level)


def ranking_page(user: User, year: int, level: str, era: str, page: int = 1, per_page: int = 100,
                 chart: int = 60) -> dict:
    """One page of the ranking, plus what the page shows about all of it: the count, the class
    counts, the indicator summary, and the rows for the chart (every unit up to `chart`, else
    the best and the worst `chart // 2`). Every unit is read once, without its section points;
    sections and previous results are read only for the rows shown."""
    with _collector_paused():
        light = _ranked_rows(user, year, level, era)
        start = (page - 1) * per_page
        shown = light[start:start + per_page]
        chart_rows = light if len(light) <= chart else light[:chart // 2] + light[-(chart // 2):]
        full = {r["inspection_id"]: r for r in _full_rows(
            list({r.inspection_id: r for r in (*shown, *chart_rows)}.values()), level)}
        return {"rows": [full[r.inspection_id] for r in shown], "total": len(light),
                "chart_rows": [full[r.inspection_id] for r in chart_rows],
                "indicators": indicator_summary([_indicators(r) for r in light]),
                "classes": class_counts([{"class": _grade(r)} for r in light])}


def _ranked_subquery(user: User, year: int, level: str, era: str, with_sections: bool):
    """Each unit's latest approved result for (year, level, era) with its province-wide rank,
    restricted to what the user may see (ranks stay province-wide)."""
    newest = func.row_number().over(partition_by=InspectionScore.unit_id,
                                    order_by=(InspectionScore.scheduled_on.desc(),
                                              InspectionScore.inspection_id.desc()))
    candidates = (select(InspectionScore.inspection_id, newest.label("newest"))
                  .join(Inspection, Inspection.id == InspectionScore.inspection_id)
                  .where(InspectionScore.year == year, InspectionScore.level == level,
                         InspectionScore.era == era,
                         InspectionScore.percent.is_not(None), Inspection.state.in_(RANKED_STATES))
                  .subquery())
    columns = [c for c in _RANKING_COLUMNS if with_sections or c.key != "sections"]
    # A partial assessment is never ranked above a full one: full ones first, then partial.
    ranked = (select(*columns, func.rank().over(
        order_by=(InspectionScore.partial.asc(), InspectionScore.percent.desc())).label("rank"))
              .join(candidates, candidates.c.inspection_id == InspectionScore.inspection_id)
              .join(AdminUnit, AdminUnit.id == InspectionScore.unit_id)
              .where(candidates.c.newest == 1)
              .subquery())
    query = select(ranked)
    condition = visible_condition(user)
    if condition is not None:
        query = query.where(ranked.c.inspection_id.in_(select(Inspection.id).where(condition)))
    return query.subquery()


def _ranked_rows(user: User, year: int, level: str, era: str, with_sections: bool = False) -> list:
    """Every ranked row (database rows), best first; ties by name, then code."""
    ranked = _ranked_subquery(user, year, level, era, with_sections)
    order = (ranked.c.partial.asc(), ranked.c.percent.desc(), ranked.c.name, ranked.c.code)
    return db.session.execute(select(ranked).order_by(*order)).all()


def _indicators(row) -> dict:
    return {"indicators": {
        "on_time_rate": {"value": row.on_time_rate, "target": row.on_time_target,
                         "met": row.on_time_met},
        "online_share": {"value": row.online_share, "target": row.online_target,
                         "met": row.online_met},
        "signed_share": {"value": row.signed_share, "target": row.signed_target,
                         "met": row.signed_met},
    }}


def _grade(row) -> dict | None:
    return {"code": row.class_code, "vi": row.class_vi,
            "en": row.class_en} if row.class_code else None


def _full_rows(found: list, level: str) -> list[dict]:
    """Ranked rows as reports show them: sections, previous result and its detail, indicators."""
    if not found:
        return []
    if "sections" in found[0]._fields:
        texts = [r.sections for r in found]
    else:
        ids = [r.inspection_id for r in found]
        by_id = {}
        for start in range(0, len(ids), 500):
            by_id.update(db.session.execute(
                select(InspectionScore.inspection_id, cast(InspectionScore.sections, Text))
                .where(InspectionScore.inspection_id.in_(ids[start:start + 500]))).all())
        texts = [by_id[i] for i in ids]
    # One json.loads for all rows: thousands of small calls cost more.
    all_sections = json.loads("[" + ",".join(t or "[]" for t in texts) + "]")
    sources = _merge_sources()
    history = _earlier_results(level, [(r.unit_id, r.scheduled_on) for r in found], sources)
    result = []
    for row, sections in zip(found, all_sections, strict=True):
        detail = _previous(row.unit_id, row.scheduled_on, history, sources)
        previous = round(sum(d["percent"] for d in detail) / len(detail), 1) if detail else None
        result.append({
            "rank": row.rank,
            "unit": _unit(row.unit_id, row.code, row.kind, row.name),
            "inspection_id": row.inspection_id,
            "scheduled_on": row.scheduled_on,
            "era": row.era,
            "score": row.total,
            "max": row.max,
            "percent": row.percent,
            "class": _grade(row),
            "assessed": row.assessed, "criteria": row.criteria, "partial": row.partial,
            "sections": [{"code": code, "points": points, "max": maximum, "percent": percent}
                         for code, points, maximum, percent in sections],
            "previous": previous,
            "change": None if previous is None else round(row.percent - previous, 1),
            "previous_detail": detail,
            **_indicators(row),
        })
    _name_previous_units(result)
    return with_self_scores(result)


def value_column(prefix: str) -> str:
    """The score snapshot's column holding a key indicator's value ("on_time" → on_time_rate)."""
    return "on_time_rate" if prefix == "on_time" else f"{prefix}_share"


def _earlier_results(level: str, units: list[tuple[int, date]],
                     sources: dict[int, list[int]]) -> dict[int, list[tuple[date, int, float]]]:
    """Approved results at this level before the latest of the given dates, per unit, newest
    first: for the given units and the units they absorbed (all units when there are many)."""
    if not units:
        return {}
    before = max(day for _unit_id, day in units)
    query = (select(InspectionScore.unit_id, InspectionScore.scheduled_on,
                    InspectionScore.inspection_id, InspectionScore.percent)
             .join(Inspection, Inspection.id == InspectionScore.inspection_id)
             .where(InspectionScore.level == level, InspectionScore.scheduled_on < before,
                    InspectionScore.percent.is_not(None), Inspection.state.in_(RANKED_STATES)))
    found = []
    if len(units) > 500:
        found = db.session.execute(query).all()
    else:
        wanted, stack = set(), [unit_id for unit_id, _day in units]
        while stack:
            unit_id = stack.pop()
            if unit_id not in wanted:
                wanted.add(unit_id)
                stack.extend(sources.get(unit_id, ()))
        ids = sorted(wanted)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found += db.session.execute(query.where(InspectionScore.unit_id.in_(chunk))).all()
    history: dict[int, list] = defaultdict(list)
    for unit_id, scheduled_on, inspection_id, percent in sorted(found, key=lambda r: (r[1], r[2]),
                                                                reverse=True):
        history[unit_id].append((scheduled_on, inspection_id, percent))
    return history


def _merge_sources() -> dict[int, list[int]]:
    sources: dict[int, list[int]] = defaultdict(list)
    for unit_id, source_id in db.session.execute(select(unit_merges.c.unit_id,
                                                        unit_merges.c.source_id)):
        sources[unit_id].append(source_id)
    return sources


def _previous(unit_id: int, before: date, history: dict, sources: dict,
              seen: frozenset = frozenset()) -> list[dict]:
    """The unit's latest earlier result, else those of the units it absorbed (recursively)."""
    for scheduled_on, inspection_id, percent in history.get(unit_id, ()):
        if scheduled_on < before:
            return [{"unit": {"id": unit_id}, "inspection_id": inspection_id,
                     "scheduled_on": scheduled_on, "percent": percent}]
    found = []
    for source in sorted(sources.get(unit_id, ())):
        if source not in seen:
            found += _previous(source, before, history, sources, seen | {unit_id})
    return found


def _name_previous_units(rows: list[dict]) -> None:
    names = {r["unit"]["id"]: r["unit"] for r in rows}
    missing = {d["unit"]["id"] for r in rows for d in r["previous_detail"]} - names.keys()
    for start in range(0, len(missing), 500):
        chunk = sorted(missing)[start:start + 500]
        names.update((unit_id, _unit(unit_id, code, kind, name)) for unit_id, code, kind,
                     name in db.session.execute(
            select(AdminUnit.id, AdminUnit.code, AdminUnit.kind,
                   AdminUnit.name).where(AdminUnit.id.in_(chunk))))
    for row in rows:
        for detail in row["previous_detail"]:
            detail["unit"] = names[detail["unit"]["id"]]


def section_titles(rows: list[dict]) -> list[dict]:
    """Code and titles of the ranked sections, from the first row's checklist version."""
    if not rows:
        return []
    document = db.session.scalar(
        select(ChecklistVersion.document)
        .join(Inspection, Inspection.checklist_version_id == ChecklistVersion.id)
        .where(Inspection.id == rows[0]["inspection_id"]))
    titles = {s["code"]: s for s in document["sections"]}
    return [{"code": s["code"], "title_vi": titles.get(s["code"], {}).get("title_vi", s["code"]),
             "title_en": titles.get(s["code"], {}).get("title_en",
                                                       s["code"])} for s in rows[0]["sections"]]


def indicator_summary(rows: list[dict]) -> list[dict]:
    """Key indicators across the ranked units: mean, range, and how many meet the target."""
    summary = []
    for name, _prefix, title_vi, title_en in INDICATORS:
        values = [r["indicators"][name] for r in rows if r["indicators"][name]["value"] is not None]
        targets = [v["target"] for v in values if v["target"] is not None]
        numbers = [v["value"] for v in values]
        summary.append({
            "indicator": name, "title_vi": title_vi, "title_en": title_en, "units": len(values),
            "mean": round(sum(numbers) / len(numbers), 1) if numbers else None,
            "minimum": min(numbers) if numbers else None,
            "maximum": max(numbers) if numbers else None,
            # Units of one era share a checklist, hence a target; the most common one is shown.
            "target": max(set(targets), key=targets.count) if targets else None,
            "met": sum(1 for v in values if v["met"] is True),
            "judged": sum(1 for v in values if v["met"] is not None),
        })
    return summary


def class_counts(rows: list[dict]) -> list[tuple[str, str, str, int]]:
    """How many ranked units fall in each class, best first: (code, vi, en, count)."""
    counts: dict[str, list] = {}
    for row in rows:
        cls = row["class"]
        if cls:
            counts.setdefault(cls["code"], [cls["code"], cls["vi"], cls["en"], 0])[3] += 1
    return [tuple(v) for _k, v in sorted(counts.items())]


# ---------------------------------------------------------------------------------------------
# Inspections by plan, trip, unit and state


def filter_query(query, filters: dict, today: date | None = None):
    """The report filters, one builder for every list, count and export of the reports.

    Inspections: ``plan``, ``trip``, ``state``, ``year`` and ``date_from``/``date_to`` (when it
    took place), ``unit`` (name contains, or GSO code). Recommendations, besides ``year`` and
    ``unit``: ``status``, ``overdue`` (open and past due on `today`), ``due_from``/``due_to``.
    The query joins Inspection and AdminUnit (and Trip for ``plan``, Recommendation for the
    recommendation filters); a filter that is absent or empty is not applied.
    """
    if filters.get("plan"):
        query = query.where(Trip.plan_id == filters["plan"])
    if filters.get("trip"):
        query = query.where(Inspection.trip_id == filters["trip"])
    if filters.get("state"):
        query = query.where(Inspection.state == InspectionState(filters["state"]))
    if filters.get("status"):
        query = query.where(Recommendation.status == filters["status"])
    if filters.get("overdue") is not None:
        overdue = overdue_condition(today or local_today())
        query = query.where(overdue if filters["overdue"] else ~overdue)
    if filters.get("year"):
        query = query.where(Inspection.scheduled_on >= date(filters["year"], 1, 1),
                            Inspection.scheduled_on <= date(filters["year"], 12, 31))
    if filters.get("date_from"):
        query = query.where(Inspection.scheduled_on >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Inspection.scheduled_on <= filters["date_to"])
    if filters.get("due_from"):
        query = query.where(Recommendation.due_on >= filters["due_from"])
    if filters.get("due_to"):
        query = query.where(Recommendation.due_on <= filters["due_to"])
    if filters.get("unit"):
        text = filters["unit"].strip()
        query = query.where(or_(AdminUnit.name.contains(text), AdminUnit.code == text))
    return query


def overdue_condition(today: date):
    """Open and past its due date on `today` (as SQL; `is_overdue` for one recommendation)."""
    return and_(Recommendation.status == RecommendationStatus.open,
                Recommendation.due_on.is_not(None), Recommendation.due_on < today)


def overview_counts(user: User, filters: dict | None = None) -> dict:
    """Inspections counted by state, by plan and by trip (with the same filters as the list)."""
    filters = filters or {}
    base = (select(Inspection.state, Trip.plan_id, Inspection.trip_id, func.count())
            .join(Trip, Trip.id == Inspection.trip_id)
            .join(AdminUnit, AdminUnit.id == Inspection.unit_id))
    base = _where(filter_query(base, filters), visible_condition(user))
    rows = db.session.execute(
        base.group_by(Inspection.state, Trip.plan_id, Inspection.trip_id)).all()
    states = {s.value: 0 for s in InspectionState}
    plans: dict[int, dict] = {}
    trips: dict[int, dict] = {}
    for state, plan_id, trip_id, count in rows:
        states[state.value] += count
        for groups, key in ((plans, plan_id), (trips, trip_id)):
            group = groups.setdefault(key, {"id": key, "total": 0, "states": {}})
            group["total"] += count
            group["states"][state.value] = group["states"].get(state.value, 0) + count
    for plan in db.session.scalars(select(Plan).where(Plan.id.in_(plans))):
        plans[plan.id].update(label=f"{plan.number} — {plan.title}", year=plan.year)
    for trip in db.session.scalars(select(Trip).where(Trip.id.in_(trips))):
        trips[trip.id].update(label=trip.name, starts_on=trip.starts_on, plan_id=trip.plan_id)
    return {
        "total": sum(states.values()),
        "states": states,
        "plans": sorted(plans.values(), key=lambda p: (-p.get("year", 0), p.get("label", ""))),
        "trips": sorted(trips.values(), key=lambda t: t.get("starts_on") or date.min, reverse=True),
    }


def inspection_list(user: User, filters: dict) -> tuple[list[dict], int]:
    """One page of inspections with unit, plan, trip, state and score; and the total count."""
    query = (select(Inspection.id, Inspection.scheduled_on, Inspection.state, Inspection.trip_id,
                    Trip.name, Plan.number, AdminUnit.id, AdminUnit.code, AdminUnit.kind,
                    AdminUnit.name,
                    InspectionScore.percent, InspectionScore.class_code, InspectionScore.class_vi,
                    InspectionScore.class_en, InspectionScore.assessed, InspectionScore.criteria,
                    InspectionScore.partial, InspectionScore.total)
             .join(Trip, Trip.id == Inspection.trip_id)
             .join(Plan, Plan.id == Trip.plan_id)
             .join(AdminUnit, AdminUnit.id == Inspection.unit_id)
             .outerjoin(InspectionScore, InspectionScore.inspection_id == Inspection.id))
    query = _where(filter_query(query, filters), visible_condition(user))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = filters.get("page", 1), filters.get("per_page", 100)
    rows = db.session.execute(query.order_by(Inspection.scheduled_on.desc(), AdminUnit.name,
                                             Inspection.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return with_self_scores([{
        "id": r[0], "scheduled_on": r[1], "state": r[2].value, "trip_id": r[3], "trip": r[4],
        "plan": r[5], "unit": _unit(r[6], r[7], r[8], r[9]), "percent": r[10],
        "class": {"code": r[11], "vi": r[12], "en": r[13]} if r[11] else None,
        "assessed": r[14], "criteria": r[15], "partial": r[16], "score": r[17],
    } for r in rows], key="id"), total


# ---------------------------------------------------------------------------------------------
# Recommendations to follow up


def is_overdue(recommendation: Recommendation, today: date | None = None) -> bool:
    """Open and past its due date."""
    return (recommendation.status == RecommendationStatus.open and recommendation.due_on is not None
            and recommendation.due_on < (today or local_today()))


def recommendation_list(user: User, filters: dict, today: date | None = None,
                        paged: bool = True) -> tuple[list[dict], int]:
    """Recommendations with unit, due date, status, overdue flag and follow-up; and the count.

    Ordered by overdue first, then due date (undated last), unit and position.
    """
    today = today or local_today()
    later = db.aliased(Inspection)
    query = (select(Recommendation, Inspection.scheduled_on, Trip.name, AdminUnit.code,
                    AdminUnit.kind, AdminUnit.name, later.scheduled_on)
             .join(Inspection, Inspection.id == Recommendation.inspection_id)
             .join(Trip, Trip.id == Inspection.trip_id)
             .join(AdminUnit, AdminUnit.id == Recommendation.unit_id)
             .outerjoin(later, later.id == Recommendation.followed_up_in_id))
    query = _where(filter_query(query, filters, today), visible_condition(user))
    overdue = overdue_condition(today)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    query = query.order_by(case((overdue, 0), else_=1), Recommendation.due_on.is_(None),
                           Recommendation.due_on, AdminUnit.name, Recommendation.inspection_id,
                           Recommendation.position, Recommendation.id)
    if paged:
        page, per_page = filters.get("page", 1), filters.get("per_page", 100)
        query = query.limit(per_page).offset((page - 1) * per_page)
    query = query.options(selectinload(Recommendation.evidence),
                          selectinload(Recommendation.reported_by))
    from .followup import may_see  # (followup reads the reports' visibility too)

    rows = []
    for rec, inspected_on, trip, code, kind, name, followed_up_on in db.session.execute(query):
        rows.append({
            "id": rec.id, "unit": _unit(rec.unit_id, code, kind, name), "text": rec.text,
            "due_on": rec.due_on, "status": rec.status, "overdue": is_overdue(rec, today),
            "inspection_id": rec.inspection_id, "inspected_on": inspected_on, "trip": trip,
            "follow_up_result": rec.follow_up_result, "follow_up_evidence": rec.follow_up_evidence,
            "followed_up_in_id": rec.followed_up_in_id, "followed_up_on": followed_up_on,
            "reported_at": rec.reported_at, "report_note": rec.report_note,
            "reported_by": rec.reported_by.full_name if rec.reported_by else None,
            "unit_reply": rec.unit_reply, "unit_reply_at": rec.unit_reply_at,
            "evidence": [{"id": e.id, "filename": e.filename, "size": e.size,
                          "content_type": e.content_type}
                         for e in rec.evidence] if rec.evidence and may_see(user, rec) else [],
        })
    return rows, total


def recommendation_counts(user: User, today: date | None = None) -> dict:
    """How many recommendations are open, overdue, done and verified (for the overview)."""
    today = today or local_today()
    query = (select(Recommendation.status, func.count(),
                    func.sum(case((and_(Recommendation.status == "open",
                                        Recommendation.due_on < today), 1),
                                  else_=0)))
             .join(Inspection, Inspection.id == Recommendation.inspection_id)
             .group_by(Recommendation.status))
    counts = {"open": 0, "done": 0, "verified": 0, "overdue": 0}
    for status, count, overdue in db.session.execute(_where(query, visible_condition(user))):
        counts[status] = count
        counts["overdue"] += overdue or 0
    return counts
