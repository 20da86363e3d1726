"""Evaluating an inspection stored in the database against its own checklist version."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ..checklists.scoring import evaluate, unit_facts
from ..extensions import db
from ..models import Inspection, Observation, Photo


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


def evaluate_inspection(inspection: Inspection) -> dict:
    """Score, consistency checks, indicators, suggestions and progress (DESIGN §4)."""
    return evaluate(inspection.checklist_version.document, observations_by_code(inspection),
                    unit=unit_facts(inspection.unit),
                    confirmed_unanswered=inspection.approval_confirmed_partial)
