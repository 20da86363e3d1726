"""Recording results for checklist items, checked against the inspection's checklist version."""
from __future__ import annotations

import math

from sqlalchemy import select

from ..extensions import db
from ..models import ChecklistItem, Inspection, Observation, User
from ..models.base import iso_utc, utcnow
from .feed import log_change
from .score_snapshots import refresh_score
from .text import bad_character, clean_text

RESULTS = {"pass", "partial", "fail", "na"}
TEXT_LIMIT = 10_000


class FieldError(ValueError):
    """A field value that does not fit the item; the message is for people: ``str()`` is the
    Vietnamese, ``message("en")`` the English (the field app shows it in its language)."""

    def __init__(self, vi: str, en: str | None = None):
        super().__init__(vi)
        self.en = en or vi

    def message(self, locale: str) -> str:
        """The message in `locale` ("en": English, else Vietnamese)."""
        return self.en if locale == "en" else str(self)


class StaleObservation(Exception):
    """The observation changed after the person read it (a tablet synced meanwhile)."""


def item_for(inspection: Inspection, code: str) -> ChecklistItem | None:
    """The checklist item with this code in the inspection's own checklist version."""
    return db.session.scalar(select(ChecklistItem).where(
        ChecklistItem.version_id == inspection.checklist_version_id, ChecklistItem.code == code))


def clean_fields(item: ChecklistItem, fields: dict) -> dict:
    """Check and normalise observation fields for an item; raises FieldError."""
    cleaned = {}
    for name, value in fields.items():
        if name not in Observation.FIELDS:
            if bad_character(name) is not None:  # never echo a character that cannot be stored
                raise FieldError("tên trường chứa ký tự không hợp lệ",
                                 "a field name holds an invalid character")
            raise FieldError(f"trường không hợp lệ '{name}'", f"unknown field '{name}'")
        if value is None:
            cleaned[name] = None
        elif name == "result":
            if value not in RESULTS:
                raise FieldError(f"kết quả không hợp lệ '{value}' (pass, partial, fail, na)",
                                 f"invalid result '{value}' (pass, partial, fail, na)")
            cleaned[name] = value
        elif name in ("points", "value"):
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value)):
                raise FieldError(f"'{name}' phải là số", f"'{name}' must be a number")
            if value < 0:
                raise FieldError(f"'{name}' không được âm", f"'{name}' cannot be negative")
            if name == "points" and item.max_points is not None and value > item.max_points:
                raise FieldError(f"điểm vượt tối đa {item.max_points:g} của tiêu chí {item.code}",
                                 f"points over the maximum {item.max_points:g} "
                                 f"of criterion {item.code}")
            if name == "value" and item.kind == "count" and value != int(value):
                raise FieldError(f"{item.code} là số đếm: phải là số nguyên",
                                 f"{item.code} is a count: it must be a whole number")
            cleaned[name] = float(value)
        else:
            if not isinstance(value, str):
                raise FieldError(f"'{name}' phải là chuỗi ký tự", f"'{name}' must be text")
            if len(value) > TEXT_LIMIT:
                raise FieldError(f"'{name}' dài quá {TEXT_LIMIT} ký tự",
                                 f"'{name}' is over {TEXT_LIMIT} characters")
            if (bad := bad_character(value)) is not None:
                raise FieldError(f"'{name}' chứa ký tự không hợp lệ U+{ord(bad):04X} "
                                 "(nửa cặp UTF-16 hoặc ký tự không dùng); hãy gõ lại",
                                 f"'{name}' holds an invalid character U+{ord(bad):04X} "
                                 "(half a UTF-16 pair or a noncharacter); type it again")
            cleaned[name] = clean_text(value)  # NUL would make PostgreSQL fail the whole request
    return cleaned


def observation_payload(observation: Observation) -> dict:
    """An observation as the change feed keeps it: the keys of schemas.sync.ObservationDataSchema
    (which dumps it in assignments), stored as it was at the change."""
    return {
        "item_code": observation.item_code,
        **{name: getattr(observation, name) for name in Observation.FIELDS},
        "version": observation.version,
        "updated_by": observation.updated_by_id,
        "updated_at": iso_utc(observation.updated_at),
    }


def log_observation_change(observation: Observation, author: User | None) -> None:
    """Append the observation's new state to the change feed that devices pull."""
    log_change(observation.inspection_id, "observation", observation_payload(observation),
               author.id if author else None)


def record_observation(inspection: Inspection, item_code: str, fields: dict, user: User | None,
                       expected_version: int | None = None, refresh: bool = True) -> Observation:
    """Set fields of an item's observation directly (office entry, leader's decision, demo data).

    Bumps its version and logs the change for devices. With `expected_version`, refuses
    (StaleObservation) when someone changed the observation since it was read. Bulk callers
    pass `refresh=False` and call `scores.refresh_scores` once at the end.
    """
    item = item_for(inspection, item_code)
    if item is None:
        raise FieldError(f"không có tiêu chí '{item_code}' trong danh mục của cuộc kiểm tra",
                         f"there is no criterion '{item_code}' in this inspection's checklist")
    cleaned = clean_fields(item, fields)
    observation = db.session.scalar(select(Observation).where(
        Observation.inspection_id == inspection.id, Observation.item_code == item_code))
    if expected_version is not None and (observation.version if observation
                                         else 0) != expected_version:
        raise StaleObservation(item_code)
    if observation is None:
        observation = Observation(inspection=inspection, item_code=item_code, version=0,
                                  field_versions={})
        db.session.add(observation)
    observation.version += 1
    versions = dict(observation.field_versions or {})
    for name, value in cleaned.items():
        setattr(observation, name, value)
        versions[name] = observation.version
    observation.field_versions = versions
    observation.updated_by = user
    observation.updated_at = utcnow()
    db.session.flush()
    log_observation_change(observation, user)
    if refresh:
        refresh_score(inspection)
    return observation
