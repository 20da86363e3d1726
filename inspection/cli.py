"""Command-line tools: `flask --app inspection <command>`; thin wrappers over services."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask_migrate import upgrade

from .errors import ServiceError, ValidationFailed
from .extensions import db


def _fail(exc: ServiceError, status: int = 1) -> None:
    """Roll back and exit with the refusal in both languages."""
    db.session.rollback()
    click.echo(exc.message_vi, err=True)
    if exc.message_en != exc.message_vi:
        click.echo(exc.message_en, err=True)
    sys.exit(status)


def _run(action, invalid_status: int = 1):
    """The one place a command commits: run `action()` (service calls that flush) and commit,
    or roll back and exit with the refusal (status `invalid_status` for invalid input, else 1)."""
    try:
        result = action()
    except ServiceError as exc:
        _fail(exc, invalid_status if isinstance(exc, ValidationFailed) else 1)
    db.session.commit()
    return result


def register_cli(app: Flask) -> None:
    """Attach the commands to the app's CLI group, area by area."""
    for register in (_database_commands, _account_commands, _checklist_commands,
                     _minutes_commands, _data_commands):
        register(app)


def _database_commands(app: Flask) -> None:
    """Schema, demo data, administrative units, backup and restore, stored-text repair."""

    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the database schema (runs the Alembic migrations)."""
        upgrade()
        click.echo("Cơ sở dữ liệu đã được cập nhật / database is up to date.")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data (Cao Bằng, Hạ Lang 2021; a 2025 visit with conditions and sampled
        dossiers) and demo accounts, once."""
        from .services.demo import seed_demo

        for line in _run(lambda: seed_demo(with_samples=True)):
            click.echo(line)

    @app.cli.command("import-units")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_units_command(csv_file: Path):
        """Add or update administrative units from a CSV file (idempotent)."""
        from .services.units import import_units

        report = _run(lambda: import_units(csv_file.read_bytes()))
        click.echo(report.summary())
        for line, reason in report.rejected:
            click.echo(f"  dòng / line {line}: {reason}")
        if report.rejected:
            sys.exit(2)

    @app.cli.command("backup")
    @click.argument("target_dir", type=click.Path(file_okay=False, path_type=Path),
                    default="backups")
    def backup_command(target_dir: Path):
        """Copy the database (consistently, while the app runs), the media and the instance's
        secret key, config and PKI folder into TARGET_DIR (readable by its owner only)."""
        from .services.backup import create_backup

        folder = create_backup(target_dir)
        click.echo(f"Đã sao lưu vào / backup written to: {folder}")

    @app.cli.command("restore")
    @click.argument("backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation")
    def restore_command(backup_dir: Path, yes: bool):
        """Restore a backup folder over the current database, media, secret key, config and PKI
        folder (stop the app first)."""
        from .services.backup import restore_backup

        if not yes:
            click.confirm("Dữ liệu hiện tại sẽ bị thay thế / the current data "
                          "will be replaced. Continue?",
                          abort=True)
        try:
            manifest = restore_backup(backup_dir)
        except ServiceError as exc:
            _fail(exc)
        click.echo(f"Đã khôi phục / restored backup of {manifest['created_at']} "
                   f"(schema {manifest['schema_revision']}, {manifest['media_files']} media files, "
                   f"{len(manifest.get('instance_files', []))} instance files: secret key, config, "
                   "PKI).")

    @app.cli.command("check-text")
    @click.option("--fix", is_flag=True, help="Replace each refused character with U+FFFD")
    def check_text_command(fix):
        """Find stored text with unpaired surrogates or noncharacters (and repair it with --fix)."""
        from .services.stored_text import find_bad_stored_text, repair_stored_text

        found = _run(lambda: repair_stored_text() if fix else list(find_bad_stored_text()))
        for bad in found:
            click.echo(bad.describe())
        if not found:
            click.echo("Không có văn bản hỏng / no invalid text stored.")
        elif fix:
            click.echo(f"Đã sửa / repaired: {len(found)} (U+FFFD).")
        else:
            click.echo(f"Tìm thấy / found: {len(found)}; chạy lại với --fix để sửa / "
                       "run again with --fix to repair.")
            sys.exit(2)


def _account_commands(app: Flask) -> None:
    """Accounts and their signing certificates."""

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["admin", "leader", "inspector", "unitrep"]),
                  required=True)
    @click.option("--name", "full_name", required=True, help="Họ và tên")
    @click.option("--position", default="", help="Chức vụ")
    @click.option("--unit-code", default=None, help="GSO code of the unit (representatives)")
    @click.option("--valid-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="The unit as it was on this day (YYYY-MM-DD); default: its latest version "
                       "that has inspections, else the current one")
    @click.password_option(help="Password (asked for if not given)")
    def create_user_command(username, role, full_name, position, unit_code, valid_on, password):
        """Create an account."""
        from .services.accounts import create_user
        from .services.units import unit_for_representative

        unit = unit_for_representative(unit_code, valid_on.date() if valid_on else None) \
            if unit_code else None
        if unit_code and unit is None:
            on = f" vào ngày {valid_on:%d/%m/%Y}" if valid_on else ""
            click.echo(f"Không có đơn vị mã {unit_code}{on} / unknown unit.", err=True)
            sys.exit(1)
        user = _run(lambda: create_user(username, password, full_name, role, position, unit))
        bound = (f", {unit.full_name} ({unit.valid_from:%d/%m/%Y} – "
                 f"{unit.valid_to:%d/%m/%Y})" if unit and unit.valid_to else
                 f", {unit.full_name} ({unit.valid_from:%d/%m/%Y} –)" if unit else "")
        click.echo(f"Đã tạo tài khoản / created: {user.username} ({user.role.value}{bound})")

    def _account(username: str):
        from .services.accounts import user_by_username

        user = user_by_username(username)
        if user is None:
            click.echo(f"Không có tài khoản {username} / no such account.", err=True)
            sys.exit(1)
        return user

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_command(username):
        """Deactivate an account: no sign-in, every session ended at once (a lost tablet)."""
        from .services.accounts import deactivate_user

        user = _account(username)
        _run(lambda: deactivate_user(user, None))
        click.echo(f"Đã khóa / deactivated: {user.username}; mọi phiên đã kết thúc / every session "
                   "ended.")

    @app.cli.command("activate-user")
    @click.argument("username")
    def activate_user_command(username):
        """Reactivate an account; its old sessions stay ended (it signs in again)."""
        from .services.accounts import activate_user

        user = _account(username)
        _run(lambda: activate_user(user, None))
        click.echo(f"Đã mở lại / reactivated: {user.username}")

    @app.cli.command("set-password")
    @click.argument("username")
    @click.password_option(help="The new password (asked for twice if not given)")
    def set_password_command(username, password):
        """Set a new password (strength checked); ends every session of the account."""
        from .services.accounts import set_password

        user = _account(username)
        _run(lambda: set_password(user, password, None))
        click.echo(f"Đã đặt mật khẩu mới / password set: {user.username}; mọi phiên đã kết thúc / "
                   "every session ended.")

    @app.cli.command("add-certificate")
    @click.argument("username")
    @click.argument("cert_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def add_certificate_command(username, cert_file: Path):
        """Register a signing certificate (.cer/.pem) to an account (checked like the page does)."""
        from .services.certificates import register_certificate

        user = _account(username)
        row = _run(lambda: register_certificate(user, cert_file.read_bytes()[:70_000], None))
        click.echo(f"Đã đăng ký / registered for {user.username}: {row.subject} "
                   f"(serial {row.serial}, "
                   f"{row.not_before:%d/%m/%Y} – {row.not_after:%d/%m/%Y})")


def _checklist_commands(app: Flask) -> None:
    """Checklist template versions: import (JSON or XLSX) and export (XLSX)."""

    @app.cli.command("import-checklist")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--publish", is_flag=True, help="Publish the version at once")
    def import_checklist_command(file: Path, publish: bool):
        """Import a checklist template version from a JSON file or an XLSX workbook.

        Every problem is listed (with sheet, row and column for a workbook) and nothing is
        imported while any remains: exit status 2.
        """
        from .services.checklists import MAX_FILE_BYTES, import_checklist

        with file.open("rb") as f:  # never more than the limit in memory
            raw = f.read(MAX_FILE_BYTES + 1)
        version, created = _run(lambda: import_checklist(raw, publish=publish), invalid_status=2)
        state = "published" if version.is_published else "draft"
        click.echo(f"{version.template.code} {version.version}: "
                   f"{'imported' if created else 'unchanged'} ({state})")

    @app.cli.command("export-checklist")
    @click.argument("version_id", type=int)
    @click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
    def export_checklist_command(version_id: int, output: Path):
        """Write a checklist version as an XLSX workbook (one sheet per part, and huong_dan)."""
        from .models import ChecklistVersion
        from .services.checklists import export_workbook

        version = db.session.get(ChecklistVersion, version_id)
        if version is None:
            click.echo(f"Không có phiên bản danh mục {version_id} / no such checklist version.",
                       err=True)
            sys.exit(1)
        try:
            data = export_workbook(version)
        except ServiceError as exc:
            _fail(exc)
        output.write_bytes(data)
        click.echo(f"{version.template.code} {version.version} → {output} ({len(data):,} bytes)")


def _minutes_commands(app: Flask) -> None:
    """Inspection minutes (biên bản kiểm tra): build an unsigned PDF, verify signatures."""

    @app.cli.group("minutes")
    def minutes_group():
        """Inspection minutes: build the PDF, verify its signatures."""

    @minutes_group.command("build")
    @click.argument("object_id", type=int)
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--trip", "is_trip", is_flag=True,
                  help="OBJECT_ID is a trip: one document for all its units")
    @click.option("--number", default="…/BB-ĐKT", help='Document number, e.g. "05/BB-ĐKT"')
    @click.option("--revision", type=int, default=None)
    @click.option("--base-url", default="", help="Site address for the verification QR code")
    def minutes_build_command(object_id: int, output: Path, is_trip: bool, number: str,
                              revision: int | None, base_url: str):
        """Write the unsigned minutes of an inspection (or a trip) as a PDF file."""
        from .models import Inspection, Trip
        from .pdf import render_minutes
        from .services.minutes_data import minutes_data_for_inspection, minutes_data_for_trip

        if is_trip:
            trip = db.session.get(Trip, object_id)
            if trip is None or not trip.inspections:
                click.echo(f"Không có đợt kiểm tra {object_id} / no such trip (or no unit in it).",
                           err=True)
                sys.exit(1)
            data = minutes_data_for_trip(trip, base_url, document_number=number, revision=revision)
        else:
            inspection = db.session.get(Inspection, object_id)
            if inspection is None:
                click.echo(f"Không có cuộc kiểm tra {object_id} / no such inspection.", err=True)
                sys.exit(1)
            data = minutes_data_for_inspection(inspection, base_url, document_number=number,
                                               revision=revision)
        pdf = render_minutes(data)
        output.write_bytes(pdf)
        click.echo(f"Đã ghi / written: {output} ({len(pdf):,} bytes)")

    @minutes_group.command("verify")
    @click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--trust", "trust_files", multiple=True,
                  type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Another trusted root certificate (PEM/DER), besides TRUSTED_CA_FILES "
                       "(or the demo CA in demo mode); repeatable.")
    def minutes_verify_command(pdf_file: Path, trust_files: tuple[Path, ...]):
        """Check a minutes PDF with the same rule as the verification page: every signature
        intact, trusted, by the account that must sign its box, nothing else changed; exit 0
        only if the minutes are fully signed."""
        from .localtime import local_moment
        from .services.minutes_verification import verify_minutes

        try:
            result = verify_minutes(pdf_file.read_bytes(), [p.read_bytes() for p in trust_files])
        except ValueError as exc:
            click.echo(f"Chứng thư tin cậy không đọc được / unreadable trusted certificate: {exc}",
                       err=True)
            sys.exit(2)

        def yes(flag: bool) -> str:
            return "có / yes" if flag else "KHÔNG / NO"

        def both(note) -> str:
            return note.vi if note.vi == note.en else f"{note.vi} / {note.en}"

        if result.error:
            click.echo(f"Không kiểm tra được tệp / cannot check the file: {result.error}")
        elif result.revision is not None:
            click.echo(f"Biên bản / minutes {result.revision.document_number}, lần / revision "
                       f"{result.revision.revision} ({result.revision.status})")
        else:
            click.echo("Không phải biên bản do hệ thống này lập / not minutes issued here")
        for n, check in enumerate(result.signatures, 1):
            report = check.report
            when = local_moment(report.signing_time).strftime(
                "%d/%m/%Y %H:%M:%S %z") if report.signing_time else "?"
            click.echo(f"Chữ ký {n} / signature {n}: {report.field_name}"
                       + (f" ({both(check.slot.label)})" if check.slot else ""))
            click.echo(f"  Người ký / signer: {report.signer}")
            click.echo(f"  Chức vụ / title: {report.title or '-'}")
            if report.organization:
                click.echo(f"  Cơ quan / organisation: {report.organization}")
            click.echo(f"  Thời gian ký / signing time: {when}"
                       + (" (có dấu thời gian / timestamped)" if report.timestamped else ""))
            click.echo(f"  Toàn vẹn / intact: {yes(report.intact and report.valid)}")
            click.echo(f"  Tin cậy / trusted: {yes(report.trusted)}")
            account = (f"{check.account.full_name} ({check.account.username})"
                       if check.account else "-")
            click.echo(f"  Tài khoản / account: {account}")
            click.echo(f"  Đúng người ký / right signer: {yes(check.matched)}")
            click.echo(f"  Phạm vi / covers: {both(check.coverage)}")
            click.echo(f"  SHA-256 chứng thư / certificate SHA-256: {report.certificate_sha256}")
            for note in check.problems:
                click.echo(f"  Vấn đề / problem: {both(note)}")
            if report.error:
                click.echo(f"  Lỗi / error: {report.error}")
        for change in result.changes:
            click.echo(f"Thay đổi ngoài chữ ký / change besides signatures: {change.vi} / "
                       f"{change.en}")
        for note in result.missing:
            click.echo(f"Thiếu / missing: {both(note)}")
        click.echo("Kết luận / verdict: " + both(result.verdict()))
        sys.exit(0 if result.fully_signed else 1)


def _data_commands(app: Flask) -> None:
    """Province reports: score snapshots, exports, a synthetic province to try them."""

    @app.cli.command("refresh-scores")
    def refresh_scores_command():
        """Rebuild the score snapshots used by the province reports (after an upgrade or import)."""
        from .services.score_snapshots import refresh_all_scores

        count = _run(refresh_all_scores)
        click.echo(f"Đã tính lại điểm / scores refreshed: {count} cuộc kiểm tra / inspections.")

    @app.cli.command("export")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--format", "fmt", type=click.Choice(["sqlite", "csv", "xlsx"]), default="sqlite",
                  show_default=True,
                  help="sqlite: the analysis database (every table, for Datasette); "
                                          "csv, xlsx: one table (--table)")
    @click.option("--table",
                  type=click.Choice(["inspections", "observations", "indicators",
                                     "recommendations"]),
                  default="inspections", show_default=True, help="Table for csv and xlsx")
    @click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                  help="Language of the csv and xlsx headers and labels "
                       "(codes keep their own columns)")
    def export_command(out: Path, fmt: str, table: str, lang: str):
        """Export the data: an SQLite analysis database, or one table as CSV or XLSX."""
        import time

        from .services import export

        started = time.monotonic()
        if fmt == "sqlite":
            counts = export.write_sqlite(out, progress=lambda name,
                                         n: click.echo(f"  {name}: {n}", err=True))
            summary = ", ".join(f"{name} {n}" for name, n in counts.items())
        else:
            rows = export.labelled(export.TABLES[table](None, {}), lang)
            if fmt == "csv":
                with open(out, "wb") as f:
                    f.writelines(export.csv_chunks(rows))
            else:
                export.write_xlsx(rows, out, sheet=table)
            summary = table
        size = out.stat().st_size
        click.echo(f"Đã xuất / exported {out} ({fmt}, {size / 1e6:.1f} MB, "
                   f"{time.monotonic() - started:.1f} s): {summary}")

    @app.cli.command("seed-synthetic")
    @click.option("--communes", default=60, show_default=True,
                  help="Communes of the 2025 structure")
    @click.option("--seed", default=2025, show_default=True,
                  help="Seed of the pseudo-random results")
    def seed_synthetic_command(communes: int, seed: int):
        """Generate a fictitious province (2023–2025 inspections) to try the reports; not for real
        data."""
        from .services.synthetic import build_province

        province = _run(lambda: build_province(seed=seed, communes=communes))
        click.echo(f"Tỉnh thử nghiệm / synthetic province {province.code}: "
                   f"{len(province.units)} units, {len(province.inspections)} inspections; "
                   "logins tn-admin, tn-leader (password demo1234).")
