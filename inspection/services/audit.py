"""Writing the audit log."""
from __future__ import annotations

from ..extensions import db
from ..models import AuditEvent, User


def record(action: str, obj, user: User | None, device_id: str | None = None,
           **details) -> AuditEvent:
    """Add an audit event for `action` on `obj` (any model with an id)."""
    event = AuditEvent(
        action=action,
        object_type=type(obj).__tablename__,
        object_id=str(obj.id),
        user_id=user.id if user is not None else None,
        device_id=device_id,
        details=details,
    )
    db.session.add(event)
    return event
