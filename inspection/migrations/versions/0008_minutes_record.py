"""what the minutes record: the team decision's number and date, one reporting deadline, the
unit officials present, the recipients (Nơi nhận)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trips") as batch:
        batch.add_column(sa.Column("decision_number", sa.String(length=80), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("decision_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("report_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("recipients", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("report_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("unit_officials", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("recipients", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("recipients")
        batch.drop_column("unit_officials")
        batch.drop_column("report_due")
    with op.batch_alter_table("trips") as batch:
        batch.drop_column("recipients")
        batch.drop_column("report_due")
        batch.drop_column("decision_date")
        batch.drop_column("decision_number")
