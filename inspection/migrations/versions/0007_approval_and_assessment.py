"""approval with unanswered criteria, when the unit last commented, how much was assessed

inspections: the reason and the criteria an approval confirmed as not assessed, and when the
unit's comments last changed (the unit's signature is refused while the minutes lack them);
inspection_scores: how many criteria were assessed, and whether the result is partial.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("approval_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approved_unanswered", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("unit_comments_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("inspection_scores") as batch:
        batch.add_column(sa.Column("assessed", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("criteria", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("partial", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("inspection_scores") as batch:
        batch.drop_column("partial")
        batch.drop_column("criteria")
        batch.drop_column("assessed")
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("unit_comments_at")
        batch.drop_column("approved_unanswered")
        batch.drop_column("approval_reason")
