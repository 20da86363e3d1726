"""conflicts: how many proposals for the same field were folded into the first one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("conflicts") as batch:
        batch.add_column(sa.Column("folded", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_column("folded")
