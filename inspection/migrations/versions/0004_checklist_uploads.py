"""checklist uploads kept with their problems; a version's base version (extends)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checklist_versions") as batch:
        batch.add_column(sa.Column("base_version_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_checklist_versions_base_version_id_checklist_versions"),
                                 "checklist_versions", ["base_version_id"], ["id"])
    op.create_table(
        "checklist_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Enum("imported", "refused", name="uploadstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_checklist_uploads_uploaded_by_id_users")),
        sa.ForeignKeyConstraint(["version_id"], ["checklist_versions.id"], ondelete="SET NULL",
                                name=op.f("fk_checklist_uploads_version_id_checklist_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_uploads")),
    )


def downgrade():
    op.drop_table("checklist_uploads")
    with op.batch_alter_table("checklist_versions") as batch:
        batch.drop_constraint("fk_checklist_versions_base_version_id_checklist_versions",
                              type_="foreignkey")
        batch.drop_column("base_version_id")
