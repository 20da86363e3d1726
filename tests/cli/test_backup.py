"""Backups are consistent copies of database, media and the instance's secrets, and they
restore."""
import json
import shutil
from pathlib import Path

from inspection.extensions import db
from inspection.models import Inspection, User
from inspection.services.demo import ACCOUNTS


def test_backup_and_restore_round_trip(demo, runner, tmp_path, app):
    media_objects = tmp_path / "media" / "objects" / "ab"
    media_objects.mkdir(parents=True)
    (media_objects / ("ab" * 32)).write_bytes(b"photo bytes")
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    stored = [p for p in (tmp_path / "media" / "objects").rglob("*") if p.is_file()]
    assert manifest["media_files"] == len(stored) >= 1 and manifest["schema_revision"]

    # Disaster: data and media lost.
    db.session.query(User).filter_by(username="inspector3").delete()
    db.session.commit()
    shutil.rmtree(tmp_path / "media")
    restored = runner.invoke(args=["restore", str(folder), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert db.session.query(User).filter_by(username="inspector3").count() == 1
    assert db.session.query(Inspection).count() == 3
    assert (media_objects / ("ab" * 32)).read_bytes() == b"photo bytes"


def test_a_damaged_backup_is_refused(demo, runner, tmp_path):
    runner.invoke(args=["backup", str(tmp_path / "backups")])
    folder = next((tmp_path / "backups").iterdir())
    database = folder / json.loads((folder / "manifest.json").read_text())["database_file"]
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    result = runner.invoke(args=["restore", str(folder), "--yes"])
    assert result.exit_code == 1
    assert "bị hỏng" in result.output
    assert db.session.query(User).count() == len(ACCOUNTS)


def test_restore_refuses_a_folder_that_is_not_a_backup(app, runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path), "--yes"])
    assert result.exit_code == 1
    assert "manifest.json" in result.output


def test_a_restore_into_a_new_folder_verifies_signed_minutes_as_the_original(
        demo, instance_pki, runner, app, database_url, tmp_path):
    """The secret key, instance config and PKI folder travel with the backup (owner-only, with
    their hashes): restored into a new folder, the signed minutes verify exactly as before,
    where a new instance without them would trust nothing."""
    import os
    import stat

    from inspection import create_app
    from inspection.config import secret_key_from_instance
    from inspection.services.backup import restore_backup
    from inspection.services.minutes import build_minutes, current_pdf, sign_minutes
    from inspection.services.minutes_verification import verify_minutes

    instance = Path(app.instance_path)
    secret = secret_key_from_instance(str(instance))
    (instance / "config.py").write_text('PUBLIC_URL = "https://cchc.caobang.example"\n')
    users = {u.username: u for u in db.session.query(User)}
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    revision = build_minutes(co_ngan, users["leader"], "https://cchc.caobang.example")
    sign_minutes(co_ngan, users["leader"])
    sign_minutes(co_ngan, users["unitrep"])
    db.session.commit()
    signed = current_pdf(revision)

    def summary(result):
        return (result.fully_signed, result.verdict(), [
            (c.report.intact, c.report.trusted, c.matched,
             c.account.username if c.account else None,
             c.report.certificate_sha256) for c in result.signatures])

    original = summary(verify_minutes(signed))
    assert original[0] is True

    made = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    folder = next((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["instance_files"]}
    assert {"secret_key", "config.py", "pki/ca.cert.pem", "pki/ca.key.pem", "pki/tsa.key.pem"} \
        <= set(listed)
    assert ".lock" not in " ".join(listed)
    for path in [folder, *folder.rglob("*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) == (0o700 if path.is_dir() else 0o600), path

    # Stop this app's connections, as the operator stops the app: on PostgreSQL the restore
    # drops and recreates the tables, which waits for every open transaction.
    db.session.remove()
    db.engine.dispose()
    restored_at = tmp_path / "restored"
    url = (f"sqlite:///{restored_at / 'inspection.db'}" if database_url.startswith("sqlite")
           else database_url)
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                        "SESSION_COOKIE_SECURE": False}, instance_path=str(restored_at))
    with other.app_context():
        if database_url.startswith("sqlite"):  # a new instance: its own schema, its own demo CA
            from flask_migrate import upgrade
            upgrade()
            assert not verify_minutes(signed).trusted
    with other.app_context():  # (the CLI runner would use this test's app, already current)
        restore_backup(folder)
    with other.app_context():
        assert summary(verify_minutes(signed)) == original
        db.session.remove()
        db.engine.dispose()
    for name in ("secret_key", "pki/ca.key.pem", "config.py"):
        assert (restored_at / name).read_bytes() == (instance / name).read_bytes()
        assert stat.S_IMODE(os.stat(restored_at / name).st_mode) == 0o600
    assert (restored_at / "secret_key").read_text().strip() == secret


def test_a_damaged_instance_file_is_refused_before_anything_is_restored(demo, runner, tmp_path,
                                                                       app):
    from inspection.config import secret_key_from_instance

    secret_key_from_instance(app.instance_path)
    runner.invoke(args=["backup", str(tmp_path / "backups")])
    folder = next((tmp_path / "backups").iterdir())
    (folder / "instance" / "secret_key").write_text("someone else's key")
    db.session.query(User).filter_by(username="inspector3").delete()
    db.session.commit()
    result = runner.invoke(args=["restore", str(folder), "--yes"])
    assert result.exit_code == 1 and "secret_key" in result.output and "bị hỏng" in result.output
    assert db.session.query(User).filter_by(username="inspector3").count() == 0
