"""self-assessment: the unit's claims per criterion with evidence files, the explanations the
leader asks for, the trip's deadline to submit, and evidence uploads

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trips") as batch:
        batch.add_column(sa.Column("self_assessment_due", sa.Date(), nullable=True))
    op.create_table(
        "self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Enum("draft", "submitted", "withdrawn", name="selfassessmentstate",
                                   native_enum=False, length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inspection_id"),
    )
    op.create_table(
        "self_assessment_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("self_assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["self_assessment_id"], ["self_assessments.id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("self_assessment_id", "item_code"),
    )
    op.create_table(
        "self_assessment_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("self_assessment_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["self_assessment_id"], ["self_assessments.id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("self_assessment_id", "sha256"),
    )
    op.create_index("ix_self_assessment_evidence_sha256", "self_assessment_evidence", ["sha256"])
    op.create_table(
        "self_assessment_explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("self_assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_evidence_ids", sa.JSON(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["self_assessment_id"], ["self_assessments.id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asked_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("self_assessment_id", "item_code"),
    )
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("evidence_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_uploads_evidence_id_self_assessment_evidence",
                                 "self_assessment_evidence", ["evidence_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("uploads") as batch:
        batch.drop_constraint("fk_uploads_evidence_id_self_assessment_evidence",
                              type_="foreignkey")
        batch.drop_column("evidence_id")
    op.drop_table("self_assessment_explanations")
    op.drop_index("ix_self_assessment_evidence_sha256", table_name="self_assessment_evidence")
    op.drop_table("self_assessment_evidence")
    op.drop_table("self_assessment_claims")
    op.drop_table("self_assessments")
    with op.batch_alter_table("trips") as batch:
        batch.drop_column("self_assessment_due")
