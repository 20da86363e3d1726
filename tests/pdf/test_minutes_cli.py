"""`flask --app inspection minutes build|verify`."""
from __future__ import annotations

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


def test_verify_reports_each_signature_of_a_file_not_issued_here(app, runner, tmp_path, pki,
                                                                 signed_twice):
    """Intact and trusted (with --trust), but whose and which minutes are unknown: not fully
    signed, exit 1."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_twice)
    result = runner.invoke(args=["minutes", "verify", str(path), "--trust", str(pki.ca_cert_path)])
    assert result.exit_code == 1, result.output
    assert result.output.count("Toàn vẹn / intact: có / yes") == 2
    assert result.output.count("Tin cậy / trusted: có / yes") == 2
    assert "Người ký / signer: Nguyễn Văn An" in result.output
    assert "Chức vụ / title: Chủ tịch UBND xã Cô Ngân" in result.output
    assert "not minutes issued here" in result.output
    assert "registered to no account here" in result.output
    other = tmp_path / "another-ca.pem"  # production: the configured CAs, not the demo CA
    other.write_bytes((pki.directory / "tsa.cert.pem").read_bytes())
    app.config["TRUSTED_CA_FILES"] = [str(other)]
    untrusted = runner.invoke(args=["minutes", "verify", str(path)])
    assert untrusted.exit_code == 1 and "Tin cậy / trusted: KHÔNG / NO" in untrusted.output

    path.write_bytes(b"not a pdf at all")
    junk = runner.invoke(args=["minutes", "verify", str(path)])
    assert junk.exit_code == 1 and "cannot check the file" in junk.output


def test_verify_passes_only_fully_signed_minutes_of_this_server(demo, instance_pki, runner,
                                                                tmp_path):
    from inspection.models import User
    from inspection.services.minutes import build_minutes, current_pdf, sign_minutes

    users = {u.username: u for u in db.session.query(User)}
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    revision = build_minutes(co_ngan, users["leader"], "https://cchc.example.vn")
    sign_minutes(co_ngan, users["leader"])
    db.session.commit()
    path = tmp_path / "signed.pdf"
    path.write_bytes(current_pdf(revision))
    half = runner.invoke(args=["minutes", "verify", str(path)])
    assert half.exit_code == 1, half.output
    assert "Tài khoản / account: Nguyễn Văn An (leader)" in half.output
    assert "Thiếu / missing: Chưa có chữ ký hợp lệ: Đại diện Xã Cô Ngân" in half.output

    sign_minutes(co_ngan, users["unitrep"])
    db.session.commit()
    signed = current_pdf(revision)
    path.write_bytes(signed)
    good = runner.invoke(args=["minutes", "verify", str(path)])
    assert good.exit_code == 0, good.output
    assert good.output.count("Đúng người ký / right signer: có / yes") == 2
    assert "Kết luận / verdict: Đã ký đủ" in good.output

    path.write_bytes(signed + b"%% appended after the last signature\n")
    extended = runner.invoke(args=["minutes", "verify", str(path)])
    assert extended.exit_code == 1
    assert "Phạm vi / covers: phủ toàn bộ tệp" not in extended.output

    tampered = bytearray(signed)
    tampered[signed.index(b"stream\n", 1000) + 30] ^= 1
    path.write_bytes(bytes(tampered))
    broken = runner.invoke(args=["minutes", "verify", str(path)])
    assert broken.exit_code == 1 and "Toàn vẹn / intact: KHÔNG / NO" in broken.output
