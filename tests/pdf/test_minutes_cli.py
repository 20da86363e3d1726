"""`flask --app inspection minutes build|verify`."""
from __future__ import annotations

import shutil
from pathlib import Path

from pdf_samples import flat, pdftotext

from inspection.extensions import db
from inspection.models import Inspection, Trip


def test_build_writes_the_unsigned_minutes_of_an_inspection_or_a_trip(demo, runner, tmp_path):
    ha_lang = next(i for i in db.session.query(Inspection) if i.unit.code == "048")
    out = tmp_path / "bb.pdf"
    result = runner.invoke(args=["minutes", "build", str(ha_lang.id), "-o", str(out),
                                 "--number", "05/BB-ĐKT", "--base-url", "https://cchc.example.vn"])
    assert result.exit_code == 0, result.output
    words = flat(pdftotext(out.read_bytes()))
    assert "Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang" in words
    assert "Số: 05/BB-ĐKT" in words and "1.081 hồ sơ" in words

    trip = db.session.query(Trip).one()
    result = runner.invoke(args=["minutes", "build", str(trip.id), "--trip", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "PHẦN 3. UBND XÃ VINH QUÝ" in flat(pdftotext(out.read_bytes()))

    missing = runner.invoke(args=["minutes", "build", "9999", "-o", str(out)])
    assert missing.exit_code == 1 and "no such inspection" in missing.output


def test_verify_prints_each_signature_and_sets_the_exit_code(app, runner, tmp_path, pki,
                                                             signed_once, signed_twice):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_twice)
    good = runner.invoke(args=["minutes", "verify", str(path), "--trust", str(pki.ca_cert_path)])
    assert good.exit_code == 0, good.output
    assert good.output.count("Hợp lệ / valid: có / yes") == 2
    assert "Người ký / signer: Nguyễn Văn An" in good.output
    assert "Chức vụ / title: Chủ tịch UBND xã Cô Ngân" in good.output
    assert "Kết luận / verdict: HỢP LỆ / VALID" in good.output

    untrusted = runner.invoke(args=["minutes", "verify", str(path)])
    assert untrusted.exit_code == 1 and "Tin cậy / trusted: KHÔNG / NO" in untrusted.output

    demo_ca = Path(app.instance_path) / "pki" / "ca.cert.pem"
    demo_ca.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pki.ca_cert_path, demo_ca)  # the instance's demo CA is trusted by default
    assert runner.invoke(args=["minutes", "verify", str(path)]).exit_code == 0

    path.write_bytes(signed_once + b"%% appended after the last signature\n")
    extended = runner.invoke(args=["minutes", "verify", str(path)])
    assert extended.exit_code == 1
    assert "Bao trùm toàn bộ tệp / covers the whole file: KHÔNG / NO" in extended.output

    tampered = bytearray(signed_twice)
    offset = signed_twice.index(b"stream\n", 1000) + 30
    tampered[offset] ^= 1
    path.write_bytes(bytes(tampered))
    broken = runner.invoke(args=["minutes", "verify", str(path)])
    assert broken.exit_code == 1 and "Toàn vẹn / intact: KHÔNG / NO" in broken.output

    path.write_bytes(b"not a pdf at all")
    junk = runner.invoke(args=["minutes", "verify", str(path)])
    assert junk.exit_code == 1 and "cannot check the file" in junk.output
