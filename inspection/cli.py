"""Command-line tools: `flask --app inspection <command>`; thin wrappers over services."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask_migrate import upgrade

from .extensions import db
from .services.errors import ServiceError


def _fail(exc: ServiceError) -> None:
    db.session.rollback()
    click.echo(exc.message_vi, err=True)
    if exc.message_en != exc.message_vi:
        click.echo(exc.message_en, err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    """Attach the commands to the app's CLI group."""

    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the database schema (runs the Alembic migrations)."""
        upgrade()
        click.echo("Cơ sở dữ liệu đã được cập nhật / database is up to date.")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data (Cao Bằng, Hạ Lang 2021) and demo accounts, once."""
        from .services.demo import seed_demo

        try:
            lines = seed_demo()
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        for line in lines:
            click.echo(line)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["admin", "leader", "inspector", "unitrep"]), required=True)
    @click.option("--name", "full_name", required=True, help="Họ và tên")
    @click.option("--position", default="", help="Chức vụ")
    @click.option("--unit-code", default=None, help="GSO code of the unit (representatives)")
    @click.password_option(help="Password (asked for if not given)")
    def create_user_command(username, role, full_name, position, unit_code, password):
        """Create an account."""
        from datetime import date

        from .services.accounts import create_user
        from .services.units import unit_valid_on

        unit = unit_valid_on(unit_code, date.today()) if unit_code else None
        if unit_code and unit is None:
            click.echo(f"Không có đơn vị mã {unit_code} còn hiệu lực / unknown unit.", err=True)
            sys.exit(1)
        try:
            user = create_user(username, password, full_name, role, position, unit)
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"Đã tạo tài khoản / created: {user.username} ({user.role.value})")

    @app.cli.command("import-units")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_units_command(csv_file: Path):
        """Add or update administrative units from a CSV file (idempotent)."""
        from .services.units import import_units

        try:
            report = import_units(csv_file.read_bytes())
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        click.echo(report.summary())
        for line, reason in report.rejected:
            click.echo(f"  dòng / line {line}: {reason}")
        if report.rejected:
            sys.exit(2)

    @app.cli.command("backup")
    @click.argument("target_dir", type=click.Path(file_okay=False, path_type=Path), default="backups")
    def backup_command(target_dir: Path):
        """Copy the database (consistently, while the app runs) and the media into TARGET_DIR."""
        from .services.backup import create_backup

        folder = create_backup(target_dir)
        click.echo(f"Đã sao lưu vào / backup written to: {folder}")

    @app.cli.command("restore")
    @click.argument("backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation")
    def restore_command(backup_dir: Path, yes: bool):
        """Restore a backup folder over the current database and media (stop the app first)."""
        from .services.backup import restore_backup

        if not yes:
            click.confirm("Dữ liệu hiện tại sẽ bị thay thế / the current data will be replaced. Continue?",
                          abort=True)
        try:
            manifest = restore_backup(backup_dir)
        except ServiceError as exc:
            _fail(exc)
        click.echo(f"Đã khôi phục / restored backup of {manifest['created_at']} "
                   f"(schema {manifest['schema_revision']}, {manifest['media_files']} media files).")

    @app.cli.command("import-checklist")
    @click.argument("json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--publish", is_flag=True, help="Publish the version at once")
    def import_checklist_command(json_file: Path, publish: bool):
        """Import a checklist template version from a JSON file."""
        from .services.checklists import import_checklist

        try:
            version, created = import_checklist(json_file.read_bytes(), publish=publish)
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        state = "published" if version.is_published else "draft"
        click.echo(f"{version.template.code} {version.version}: "
                   f"{'imported' if created else 'unchanged'} ({state})")
