"""meeting start and end times of an inspection (printed in the minutes)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("meeting_start", sa.Time(), nullable=True))
        batch.add_column(sa.Column("meeting_end", sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("meeting_end")
        batch.drop_column("meeting_start")
