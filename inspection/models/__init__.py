"""Database models, one module per aggregate; importing this package registers them all."""
from .audit import AuditEvent
from .checklists import (
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistUpload,
    ChecklistVersion,
)
from .inspections import (
    Conflict,
    Finding,
    Inspection,
    InspectionState,
    InvalidTransition,
    LateSubmission,
    Observation,
    Photo,
    Recommendation,
    RecommendationEvidence,
    RecommendationMoveRefused,
)
from .minutes import MinutesRevision, Signature
from .plans import Plan, Trip, TripMember, TripRole
from .reports import InspectionScore
from .sync import AppliedOp, ChangeLog, Upload
from .units import AdminUnit, UnitLevel, unit_merges
from .users import InvalidAccountChange, Role, User, UserCertificate

__all__ = [
    "AdminUnit", "AppliedOp", "AuditEvent", "ChangeLog", "ChecklistItem", "ChecklistSection",
    "ChecklistTemplate", "ChecklistUpload", "ChecklistVersion", "Conflict", "Finding", "Inspection",
    "InspectionScore", "InspectionState", "InvalidAccountChange", "InvalidTransition",
    "LateSubmission", "MinutesRevision", "Observation",
    "Photo", "Plan", "Recommendation", "RecommendationEvidence", "RecommendationMoveRefused", "Role", "Signature", "Trip", "TripMember", "TripRole",
    "UnitLevel", "Upload", "User", "UserCertificate", "unit_merges",
]
