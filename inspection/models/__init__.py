"""Database models, one module per aggregate; importing this package registers them all."""
from .audit import AuditEvent
from .base import InvalidTransition
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
    LateStatus,
    LateSubmission,
    Observation,
    Photo,
    Recommendation,
    RecommendationEvidence,
    RecommendationStatus,
)
from .minutes import MinutesRevision, MinutesStatus, PaperMinutes, Signature
from .plans import Plan, Trip, TripMember, TripRole
from .reports import InspectionScore
from .samples import Sample
from .self_assessment import (
    SelfAssessment,
    SelfAssessmentClaim,
    SelfAssessmentEvidence,
    SelfAssessmentExplanation,
    SelfAssessmentState,
)
from .sync import AppliedOp, ChangeLog, Upload
from .units import AdminUnit, UnitLevel, unit_merges
from .users import InvalidAccountChange, Role, User, UserCertificate

__all__ = [
    "AdminUnit", "AppliedOp", "AuditEvent", "ChangeLog", "ChecklistItem", "ChecklistSection",
    "ChecklistTemplate", "ChecklistUpload", "ChecklistVersion", "Conflict", "Finding", "Inspection",
    "InspectionScore", "InspectionState", "InvalidAccountChange", "InvalidTransition",
    "LateStatus", "LateSubmission", "MinutesRevision", "MinutesStatus", "Observation",
    "PaperMinutes",
    "Photo", "Plan", "Recommendation", "RecommendationEvidence", "RecommendationStatus", "Role",
    "Sample", "SelfAssessment", "SelfAssessmentClaim", "SelfAssessmentEvidence",
    "SelfAssessmentExplanation", "SelfAssessmentState", "Signature", "Trip", "TripMember",
    "TripRole",
    "UnitLevel", "Upload", "User", "UserCertificate", "unit_merges",
]
