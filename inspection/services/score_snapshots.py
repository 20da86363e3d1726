"""Keeping score snapshots (``InspectionScore``) in step with observations.

``refresh_score`` is called after every observation change (``record_observation``), and
``refresh_scores`` once per sync batch or for existing data (``flask refresh-scores``). Both
compute through ``checklists.scoring.evaluate``, the same evaluation the inspection page shows.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..checklists.scoring import evaluate, unit_facts
from ..extensions import db
from ..models import Inspection, InspectionScore, Observation, Photo
from ..models.base import utcnow
from ..models.reports import KEY_INDICATORS
from .evaluation import evaluate_inspection, samples_by_group

# indicator name -> column prefix on InspectionScore
_COLUMNS = {"on_time_rate": "on_time", "online_share": "online", "signed_share": "signed"}
BATCH = 500


def snapshot_values(inspection: Inspection, evaluation: dict) -> dict:
    """The columns of an inspection's score row, from its evaluation."""
    score = evaluation["score"]
    template = inspection.checklist_version.template
    values = {
        "unit_id": inspection.unit_id,
        "scheduled_on": inspection.scheduled_on,
        "year": inspection.scheduled_on.year,
        "level": template.unit_level,
        "era": template.era,
        "total": score["total"],
        "max": score["max"],
        "percent": score["percent"],
        "class_code": score["class"]["code"] if score["class"] else None,
        "class_vi": score["class"]["vi"] if score["class"] else None,
        "class_en": score["class"]["en"] if score["class"] else None,
        "sections": [[section["code"], section["points"], section["max"], section["percent"]]
                     for section in score["sections"]],
        "answered": evaluation["progress"]["answered"],
        "items": evaluation["progress"]["total"],
        "assessed": score["assessed"],
        "criteria": score["items"],
        "partial": score["partial"],
        "computed_at": utcnow(),
    }
    found = {i["indicator"]: i for i in evaluation["indicators"]
             if i.get("indicator") in KEY_INDICATORS}
    for name, prefix in _COLUMNS.items():
        indicator = found.get(name) or {}
        values[f"{prefix}_rate" if prefix == "on_time"
               else f"{prefix}_share"] = indicator.get("value")
        values[f"{prefix}_target"] = indicator.get("target")
        values[f"{prefix}_met"] = indicator.get("met")
    return values


def _store(inspection: Inspection, values: dict) -> InspectionScore:
    row = db.session.get(InspectionScore, inspection.id)
    if row is None:
        row = InspectionScore(inspection_id=inspection.id, **values)
        db.session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return row


def refresh_score(inspection: Inspection) -> InspectionScore:
    """Re-evaluate one inspection and store its snapshot (flushes, never commits)."""
    row = _store(inspection, snapshot_values(inspection, evaluate_inspection(inspection)))
    db.session.flush()
    return row


def refresh_scores(inspection_ids: Iterable[int], batch: int = BATCH) -> int:
    """Re-evaluate many inspections (a sync batch, or all of them) in a few queries per batch.

    Returns how many snapshots were written. Flushes, never commits.
    """
    ids = sorted(set(inspection_ids))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        inspections = db.session.scalars(
            select(Inspection).where(Inspection.id.in_(chunk))
            .options(selectinload(Inspection.checklist_version),
                     selectinload(Inspection.unit))).all()
        observations: dict[int, dict[str, dict]] = defaultdict(dict)
        for row in db.session.execute(
                select(Observation.inspection_id, Observation.item_code, Observation.result,
                       Observation.points, Observation.value, Observation.text)
                .where(Observation.inspection_id.in_(chunk))):
            observations[row.inspection_id][row.item_code] = {
                "result": row.result, "points": row.points, "value": row.value, "text": row.text}
        photos = Counter(db.session.execute(
            select(Photo.inspection_id, Photo.item_code)
            .where(Photo.inspection_id.in_(chunk), Photo.item_code.is_not(None))).all())
        existing = {row.inspection_id: row for row in db.session.scalars(
            select(InspectionScore).where(InspectionScore.inspection_id.in_(chunk)))}
        for inspection in inspections:
            found = observations.get(inspection.id, {})
            document = inspection.checklist_version.document
            for section in document["sections"]:
                for item in section["items"]:
                    count = photos.get((inspection.id, item["code"]))
                    if item["kind"] == "photo" and count:
                        found.setdefault(item["code"], {})["value"] = count
            values = snapshot_values(inspection, evaluate(
                document, found, unit=unit_facts(inspection.unit),
                samples=samples_by_group(inspection),
                confirmed_unanswered=inspection.approval_confirmed_partial))
            row = existing.get(inspection.id)
            if row is None:
                db.session.add(InspectionScore(inspection_id=inspection.id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        db.session.flush()
    return len(ids)


def refresh_all_scores(batch: int = BATCH) -> int:
    """Rebuild every snapshot (after an upgrade or a bulk import); returns the count."""
    return refresh_scores(db.session.scalars(select(Inspection.id)).all(), batch)
