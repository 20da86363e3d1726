"""Score snapshots: what each inspection's evaluation came to, kept for province-wide reports.

Evaluating thousands of inspections per page view is too slow, so every change of an
inspection's observations refreshes its row here (``services.score_snapshots.refresh_score``).
The ranking, the indicator summaries and the exports read these rows; the evaluation itself stays
the single source of truth and a snapshot can always be rebuilt from it
(``flask --app inspection refresh-scores``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# Indicators kept as columns (value, target, met) because the overview compares them across units.
KEY_INDICATORS = ("on_time_rate", "online_share", "signed_share")


class InspectionScore(db.Model):
    """The evaluation of one inspection, flattened: points, percent, class, sections, indicators.

    ``year``, ``level``, ``era``, ``unit_id`` and ``scheduled_on`` are copied from the
    inspection, its unit and its checklist so that a ranking is one indexed read of one table.
    """

    __tablename__ = "inspection_scores"
    __table_args__ = (Index("ix_inspection_scores_ranking", "year", "level", "era"),)

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    scheduled_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))  # district | commune
    era: Mapped[str] = mapped_column(String(10))  # 3cap | 2cap
    total: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)  # 1 decimal; None when nothing to score
    class_code: Mapped[str | None] = mapped_column(String(10))
    class_vi: Mapped[str | None] = mapped_column(String(60))
    class_en: Mapped[str | None] = mapped_column(String(60))
    # [[code, points, max, percent], ...] in checklist order; compact because a national
    # ranking decodes thousands of them (titles are in the checklist version)
    sections: Mapped[list] = mapped_column(JSON, default=list)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    # Criteria assessed of the applicable ones (score.assessed / score.items); partial when
    # fewer: the ranking says so and places the unit after the fully assessed ones.
    assessed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    criteria: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    on_time_rate: Mapped[float | None] = mapped_column(Float)
    on_time_target: Mapped[float | None] = mapped_column(Float)
    on_time_met: Mapped[bool | None] = mapped_column(Boolean)
    online_share: Mapped[float | None] = mapped_column(Float)
    online_target: Mapped[float | None] = mapped_column(Float)
    online_met: Mapped[bool | None] = mapped_column(Boolean)
    signed_share: Mapped[float | None] = mapped_column(Float)
    signed_target: Mapped[float | None] = mapped_column(Float)
    signed_met: Mapped[bool | None] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    inspection: Mapped[Inspection] = relationship()  # noqa: F821


def _recommendation_indexes() -> None:
    """Indexes for the follow-up list (by status and due date, by unit) at national scale.

    Declared here rather than on the Recommendation model so the reports feature owns them.
    """
    from .inspections import Recommendation

    Index("ix_recommendations_status_due_on", Recommendation.status, Recommendation.due_on)
    Index("ix_recommendations_unit_id", Recommendation.unit_id)
    Index("ix_recommendations_inspection_id", Recommendation.inspection_id)


_recommendation_indexes()
