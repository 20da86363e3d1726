"""recommendations: the unit's report that it carried one out (note, evidence files, undo) and
its reply in words

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recommendations") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reported_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("report_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("unit_reply", sa.Text(), nullable=True))
        batch.add_column(sa.Column("unit_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unit_reply_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_recommendations_reported_by_id_users", "users", ["reported_by_id"], ["id"])
        batch.create_foreign_key("fk_recommendations_unit_reply_by_id_users", "users", ["unit_reply_by_id"], ["id"])
    op.create_table(
        "recommendation_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recommendation_id", "sha256"),
    )
    op.create_index("ix_recommendation_evidence_sha256", "recommendation_evidence", ["sha256"])


def downgrade():
    op.drop_index("ix_recommendation_evidence_sha256", table_name="recommendation_evidence")
    op.drop_table("recommendation_evidence")
    with op.batch_alter_table("recommendations") as batch:
        batch.drop_constraint("fk_recommendations_unit_reply_by_id_users", type_="foreignkey")
        batch.drop_constraint("fk_recommendations_reported_by_id_users", type_="foreignkey")
        for column in ("unit_reply_by_id", "unit_reply_at", "unit_reply", "report_note", "reported_by_id",
                       "reported_at"):
            batch.drop_column(column)
