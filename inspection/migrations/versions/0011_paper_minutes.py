"""paper minutes: scans of wet-signed printed minutes, and how an inspection was signed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("signed_on", sa.String(length=10), nullable=True))
    # Before the paper fallback, every signed inspection was signed digitally.
    op.execute("UPDATE inspections SET signed_on = 'digital' WHERE state = 'signed'")
    op.create_table(
        "paper_minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=50), nullable=False),
        sa.Column("dpi", sa.Float(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["revision_id"], ["minutes_revisions.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_paper_minutes_inspection_id", "paper_minutes", ["inspection_id"])


def downgrade():
    op.drop_index("ix_paper_minutes_inspection_id", table_name="paper_minutes")
    op.drop_table("paper_minutes")
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("signed_on")
