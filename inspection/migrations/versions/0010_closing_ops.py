"""the closing meeting from tablets: client UUIDs and versions of findings and recommendations,
the team members present and per-field versions of the closing fields of an inspection

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 15:00:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("findings", "recommendations")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("client_uuid", sa.Uuid(), nullable=True))
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                       server_default="1"))
            batch.add_column(sa.Column("changed_by", sa.String(length=120), nullable=True))
        # One UUID per existing row (tablets address findings and recommendations by it).
        rows = sa.table(table, sa.column("id", sa.Integer()), sa.column("client_uuid", sa.Uuid()))
        connection = op.get_bind()
        ids = [row.id for row in connection.execute(sa.select(rows.c.id))]
        for row_id in ids:
            connection.execute(rows.update().where(rows.c.id == row_id)
                               .values(client_uuid=uuid.uuid4()))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("client_uuid", existing_type=sa.Uuid(), nullable=False)
            batch.create_unique_constraint(f"uq_{table}_client_uuid", ["client_uuid"])
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("team_present", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("closing_versions", sa.JSON(), nullable=False,
                                   server_default="{}"))


def downgrade():
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("closing_versions")
        batch.drop_column("team_present")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_client_uuid", type_="unique")
            batch.drop_column("changed_by")
            batch.drop_column("version")
            batch.drop_column("client_uuid")
