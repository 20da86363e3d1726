"""Backups are consistent copies of database and media, and they restore."""
import json
import shutil

from inspection.extensions import db
from inspection.models import Inspection, User


def test_backup_and_restore_round_trip(demo, runner, tmp_path, app):
    media_objects = tmp_path / "media" / "objects" / "ab"
    media_objects.mkdir(parents=True)
    (media_objects / ("ab" * 32)).write_bytes(b"photo bytes")
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["media_files"] == 1 and manifest["schema_revision"]

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
    assert db.session.query(User).count() == 6


def test_restore_refuses_a_folder_that_is_not_a_backup(app, runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path), "--yes"])
    assert result.exit_code == 1
    assert "manifest.json" in result.output
