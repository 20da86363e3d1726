"""Evaluating an inspection stored in the database against its own checklist version."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ..checklists.scoring import evaluate, unit_facts
from ..extensions import db
from ..models import Inspection, Observation, Photo, Sample


def observations_by_code(inspection: Inspection) -> dict[str, dict]:
    """The inspection's observations as scoring expects them; photo items count their photos."""
    found = {
        o.item_code: {"result": o.result, "points": o.points, "value": o.value, "text": o.text}
        for o in db.session.scalars(select(Observation)
                                    .where(Observation.inspection_id == inspection.id))
    }
    photo_counts = Counter(db.session.scalars(
        select(Photo.item_code).where(Photo.inspection_id == inspection.id,
                                      Photo.item_code.is_not(None))))
    for item in inspection.checklist_version.document_items():
        if item["kind"] == "photo" and photo_counts[item["code"]]:
            found.setdefault(item["code"], {})["value"] = photo_counts[item["code"]]
    return found


def samples_by_group(inspection: Inspection) -> dict[str, list[dict]] | None:
    """The stored samples as scoring reads them: ``{group: [{field code: value}]}``, every group
    of the checklist (none yet: an empty list), samples in the order they were added, deleted
    ones left out, empty fields left out. None when the checklist has no repeat group."""
    groups = inspection.checklist_version.document.get("repeats") or []
    if not groups:
        return None
    found: dict[str, list[dict]] = {group["code"]: [] for group in groups}
    for sample in db.session.scalars(select(Sample).where(
            Sample.inspection_id == inspection.id, Sample.deleted_at.is_(None))
                                     .order_by(Sample.id)):
        if sample.group_code in found:
            found[sample.group_code].append(
                {code: value for code, value in (sample.values or {}).items() if value is not None})
    return found


def evaluate_inspection(inspection: Inspection) -> dict:
    """Score, consistency checks, indicators, suggestions and progress (DESIGN §4); aggregates
    over repeat groups read the stored samples, and a group outside its bounds is a warning."""
    return evaluate(inspection.checklist_version.document, observations_by_code(inspection),
                    unit=unit_facts(inspection.unit), samples=samples_by_group(inspection),
                    confirmed_unanswered=inspection.approval_confirmed_partial)
