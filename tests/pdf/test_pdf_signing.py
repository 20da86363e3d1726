"""PAdES signatures: two incremental signatures checked by pyHanko and by poppler's pdfsig,
tampering, broken input, the own-token upload check, the stamp font and the demo PKI."""
from __future__ import annotations

import asyncio
import io
import random

import pytest
from cryptography import x509
from fontTools.ttLib import TTFont
from forgery import ATTACKS, unsigned_update
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from reportlab.pdfgen import canvas

from inspection.pdf import LEADER_FIELD, unit_field
from inspection.services.demo_pki import DEMO_P12_PASSPHRASE, ensure_demo_pki
from inspection.services.signing import SigningError, load_pkcs12
from inspection.services.stamp_font import stamp_font_path
from inspection.services.verification import (
    NOT_THIS_DOCUMENT,
    changes_after,
    first_revision_bytes,
    verify_pdf,
)


def flip(pdf: bytes, offset: int) -> bytes:
    return pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1:]


def inside_first_stream(pdf: bytes, start: int = 0) -> int:
    """An offset inside the first content stream after `start`."""
    return pdf.index(b"stream\n", start) + len(b"stream\n") + 20


def base_fonts(xobject, seen=None) -> set[str]:
    """/BaseFont names used by a form XObject and the XObjects it draws."""
    seen = set() if seen is None else seen
    found = set()
    resources = xobject.get("/Resources", {})
    for font in resources.get("/Font", {}).values():
        found.add(str(font.get_object()["/BaseFont"]))
    for child in resources.get("/XObject", {}).values():
        if id(child.get_object()) not in seen:
            seen.add(id(child.get_object()))
            found |= base_fonts(child.get_object(), seen)
    return found


def plain_pdf(text: str = "Tài liệu thử") -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(100, 700, "test")
    c.showPage()
    c.drawString(100, 700, "page 2")
    c.save()
    return out.getvalue()


def test_two_signatures_are_intact_valid_and_trusted_for_pyhanko(signed_twice, minutes_pdf, pki,
                                                                  leader_key, unitrep_key):
    reports = verify_pdf(signed_twice, pki.trust_roots)
    assert [r.field_name for r in reports] == [LEADER_FIELD, unit_field(1)]
    leader, unitrep = reports
    for report in reports:
        assert report.error is None
        assert report.intact and report.valid and report.trusted and report.bottom_line
        assert report.ok
        assert report.timestamped and report.signing_time is not None
        assert report.reason == "Ký biên bản kiểm tra"
        assert report.location == "Hạ Lang, Cao Bằng"
    assert (leader.signer, leader.title) == ("Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ")
    assert (unitrep.signer, unitrep.title) == ("Nông Văn Én", "Chủ tịch UBND xã Cô Ngân")
    assert leader.certificate_sha256 == leader_key.fingerprint
    assert unitrep.certificate_sha256 == unitrep_key.fingerprint
    assert not leader.covers_whole_document and leader.coverage == "ENTIRE_REVISION"
    assert unitrep.covers_whole_document and unitrep.coverage == "ENTIRE_FILE"
    assert signed_twice.startswith(minutes_pdf)  # incremental: the final PDF is untouched
    assert first_revision_bytes(signed_twice) == minutes_pdf


def test_without_the_demo_ca_the_signatures_are_intact_but_not_trusted(signed_twice):
    reports = verify_pdf(signed_twice, [])
    assert [(r.intact, r.valid, r.trusted,
             r.ok) for r in reports] == [(True, True, False, False)] * 2


def test_pdfsig_reports_both_signatures_valid_and_trusted(signed_twice, pdfsig):
    output = pdfsig(signed_twice)
    assert output.count("Signature is Valid.") == 2, output
    assert output.count("Certificate is Trusted.") == 2, output
    assert "Nguyễn Văn An" in output and "Nông Văn Én" in output
    assert output.count("ETSI.CAdES.detached") == 2
    assert "Total document signed" in output


def test_the_stamps_fill_the_prepared_fields_with_the_rescaled_renamed_font(signed_twice,
                                                                             minutes_pdf,
                                                                             font_cache):
    reader = PdfFileReader(io.BytesIO(signed_twice), strict=False)
    fields = {name: ref.get_object() for name, _, ref in enumerate_sig_fields(reader)}
    prepared = {name: ref.get_object()["/Rect"] for name, _, ref
                in enumerate_sig_fields(PdfFileReader(io.BytesIO(minutes_pdf), strict=False))}
    assert set(fields) == {LEADER_FIELD, unit_field(1)}
    for name, widget in fields.items():
        assert [float(v) for v in widget["/Rect"]] == [float(v) for v in prepared[name]]
        appearance = widget["/AP"]["/N"]
        assert appearance.data  # the stamp is drawn, in the stamp font
        assert any("+CCHCStampSerif-Regular" in font for font in base_fonts(appearance))
    font = TTFont(str(stamp_font_path(font_cache)))
    assert font["head"].unitsPerEm == 1000
    names = {record.toUnicode() for record in font["name"].names if record.nameID in (1, 4, 6, 16)}
    assert names and not any("Liberation" in n for n in names)
    assert "CCHC Stamp Serif" in names
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "Ký bởi Chức vụ Thời gian ĐƯỢC Nông Văn Én ỹ ự ẫ ₫")


def test_one_flipped_byte_in_revision_one_breaks_both_signatures(signed_twice, minutes_pdf, pki,
                                                                 pdfsig):
    offset = inside_first_stream(signed_twice, 1000)
    assert offset < len(minutes_pdf)
    tampered = flip(signed_twice, offset)
    reports = verify_pdf(tampered, pki.trust_roots)
    assert len(reports) == 2
    assert [(r.intact, r.ok) for r in reports] == [(False, False), (False, False)]
    output = pdfsig(tampered)
    assert output.count("Digest Mismatch") == 2, output
    assert "Signature is Valid." not in output


def test_one_flipped_byte_in_revision_two_breaks_only_the_first_signature_s_successor(
        signed_twice, signed_once, pki, pdfsig):
    # A byte of the stamp stream added by the second signature: only that signature covers it.
    offset = inside_first_stream(signed_twice, len(signed_once))
    tampered = flip(signed_twice, offset)
    leader, unitrep = verify_pdf(tampered, pki.trust_roots)
    assert leader.intact and not unitrep.intact and not unitrep.ok
    output = pdfsig(tampered)
    assert output.count("Digest Mismatch") == 1 and output.count("Signature is Valid.") == 1


@pytest.mark.parametrize("bad",
                         [b"", b"hello", b"%PDF-1.4\n", b"%PDF-1.7\n" + bytes(range(256)) * 8,
                                 b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not bytes"])
def test_non_pdf_input_is_reported_invalid_never_raised(bad):
    reports = verify_pdf(bad, [])
    assert reports and all(not r.ok and r.error for r in reports)


def test_truncated_and_corrupted_files_never_raise(signed_twice, pki):
    for cut in (len(signed_twice) // 2, len(signed_twice) - 40, len(signed_twice) - 1, 200):
        reports = verify_pdf(signed_twice[:cut], pki.trust_roots)
        assert reports, cut
        assert not all(r.ok for r in reports), cut
    xref = signed_twice.rindex(b"xref")
    assert not all(r.ok for r in verify_pdf(signed_twice.replace(b"xref", b"xreg"),
                                            pki.trust_roots))
    rng = random.Random(5)
    for _ in range(8):  # random flips anywhere near the tail (xref, trailer, signature dict)
        offset = rng.randrange(max(0, xref - 3000), len(signed_twice))
        assert isinstance(verify_pdf(flip(signed_twice, offset), pki.trust_roots), list)


def test_an_unsigned_pdf_has_no_signature_reports(minutes_pdf):
    assert verify_pdf(minutes_pdf, []) == []


def test_signatures_into_the_prepared_fields_are_the_only_changes_after_the_final_pdf(
        signed_twice, signed_once, minutes_pdf, sign, leader_key):
    assert changes_after(signed_once, minutes_pdf) == []
    assert changes_after(signed_twice, minutes_pdf) == []
    assert changes_after(signed_twice, signed_once) == []
    assert changes_after(minutes_pdf, minutes_pdf) == []  # nothing added at all
    signed_other = sign(plain_pdf(), leader_key, LEADER_FIELD, "Trưởng đoàn kiểm tra")
    assert changes_after(signed_other, minutes_pdf) == [NOT_THIS_DOCUMENT]
    assert changes_after(b"garbage", minutes_pdf) == [NOT_THIS_DOCUMENT]


def test_signing_a_pdf_without_prepared_fields_puts_the_stamps_on_the_last_page(sign, leader_key,
                                                                                  unitrep_key, pki):
    pdf = plain_pdf()
    signed = sign(sign(pdf, leader_key, LEADER_FIELD, "Trưởng đoàn"), unitrep_key, unit_field(1),
                  "Đại diện đơn vị")
    reports = verify_pdf(signed, pki.trust_roots)
    assert [r.ok for r in reports] == [True, True]
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    last_page = reader.root["/Pages"]["/Kids"][-1]
    boxes = {}
    for name, _, ref in enumerate_sig_fields(reader):
        widget = ref.get_object()
        assert widget["/P"] == last_page
        boxes[name] = [float(v) for v in widget["/Rect"]]
    assert boxes[unit_field(1)][2] < boxes[LEADER_FIELD][0]  # unit left, leader right


def test_signing_and_verifying_work_inside_a_running_event_loop(minutes_pdf, sign, leader_key, pki):
    async def inside_a_loop():  # e.g. an async server, or Playwright's sync API in tests
        signed = sign(minutes_pdf, leader_key, LEADER_FIELD, "Trưởng đoàn")
        return verify_pdf(signed, pki.trust_roots)

    (report,) = asyncio.run(inside_a_loop())
    assert report.ok


def test_signing_refuses_bad_input(sign, signed_once, leader_key, minutes_pdf):
    with pytest.raises(SigningError):
        sign(signed_once, leader_key, LEADER_FIELD, "again")  # that field is already signed
    with pytest.raises(SigningError):
        sign(b"not a pdf", leader_key, LEADER_FIELD, "x")
    with pytest.raises(SigningError):
        sign(minutes_pdf, leader_key, "bad name/../", "x")


def test_pkcs12_loading(pki):
    path = pki.p12_path("leader")
    key = load_pkcs12(path, DEMO_P12_PASSPHRASE.decode())
    assert key.common_name == "Nguyễn Văn An" and key.title == "Phó Giám đốc Sở Nội vụ"
    assert load_pkcs12(path.read_bytes(), DEMO_P12_PASSPHRASE).fingerprint == key.fingerprint
    with pytest.raises(SigningError):
        load_pkcs12(path, "wrong")
    with pytest.raises(SigningError):
        load_pkcs12(b"not a p12", None)


def test_the_demo_pki_is_made_once_and_issues_keys_for_any_user(pki):
    ca = pki.ca_cert_path.read_bytes()
    leader_p12 = pki.p12_path("leader").read_bytes()
    again = ensure_demo_pki(pki.directory)
    assert again.ca_cert_path.read_bytes() == ca
    assert again.p12_path("leader").read_bytes() == leader_p12
    cert = x509.load_pem_x509_certificate(ca)
    assert cert.subject.rfc4514_string().startswith("CN=CCHC Demo CA")
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    key = again.signer("inspector1", "Trần Thị Bình", "Chuyên viên Sở Nội vụ")
    assert (key.common_name, key.title) == ("Trần Thị Bình", "Chuyên viên Sở Nội vụ")
    assert again.signer("inspector1", "Trần Thị Bình", "Chuyên viên Sở Nội vụ").fingerprint \
        == key.fingerprint
    promoted = again.signer("inspector1", "Trần Thị Bình", "Trưởng phòng CCHC")
    assert promoted.title == "Trưởng phòng CCHC" and promoted.fingerprint != key.fingerprint
    assert promoted.certificate.issuer == again.ca_cert.subject
    assert again.p12_path("../etc/ông").parent == pki.directory / "people"
    assert again.p12_path("../etc/ông") != again.p12_path("___etc__ng")


@pytest.mark.parametrize("attack,kind", [("page content", "page_content"),
                                         ("annotation", "annotation"),
                                         ("form field", "form_field"),
                                         ("new page", "page_added")])
def test_an_unsigned_update_before_a_signature_is_named_even_though_the_signature_is_intact(
        minutes_pdf, signed_once, sign, unitrep_key, pki, attack, kind):
    """The signature made on top of the forgery covers it, so it is intact and trusted: only the
    comparison with the stored revision sees the forgery, and it says what it is."""
    for base in (minutes_pdf, signed_once):
        forged = sign(unsigned_update(base, ATTACKS[attack]), unitrep_key,
                      LEADER_FIELD if base is minutes_pdf else unit_field(1), "Ký")
        assert verify_pdf(forged, pki.trust_roots)[-1].intact
        changes = changes_after(forged, base)
        assert kind in [change.kind for change in changes], (attack, changes)
        assert all(change.vi and change.en for change in changes)
    content = changes_after(sign(unsigned_update(minutes_pdf, ATTACKS["page content"]),
                                 unitrep_key, LEADER_FIELD, "Ký"), minutes_pdf)
    assert [(c.kind, c.page) for c in content] == [("page_content", 1)]
    assert "nội dung trang 1" in content[0].vi


def test_a_new_visible_signature_box_is_refused_an_invisible_one_is_not(minutes_pdf, sign,
                                                                        leader_key):
    """A signature's own appearance can cover the page: a signature must fill a prepared box."""
    boxed = sign(minutes_pdf, leader_key, "NewBox", "Ký")  # a new field, stamped on the last page
    assert [c.kind for c in changes_after(boxed, minutes_pdf)] == ["signature_box"]


def test_a_revocation_list_carried_in_the_file_makes_the_signature_untrusted(minutes_pdf, pki,
                                                                           sign):
    """Revocation data embedded in the file (here a CRL of the demo CA in the document security
    store, added as an update after the signature) is checked without any network, and adding
    it is not a change to the document. Without it, offline, nobody can tell (soft-fail)."""
    import datetime as dt

    from asn1crypto import crl as asn1_crl
    from cryptography.hazmat.primitives import hashes, serialization
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from inspection.services.demo_pki import issue_certificate

    # Real CAs declare where their revocation list is; certificates that do not are not checked.
    key = load_pkcs12(issue_certificate(pki, "leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ",
                                        crl_url="http://ca.example.invalid/demo.crl"),
                      DEMO_P12_PASSPHRASE)
    signed = sign(minutes_pdf, key, LEADER_FIELD, "Trưởng đoàn kiểm tra")
    (before,) = verify_pdf(signed, pki.trust_roots)
    assert before.trusted and not before.revoked

    ca_key = serialization.load_pem_private_key((pki.directory / "ca.key.pem").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert_path.read_bytes())
    now = dt.datetime.now(dt.UTC)
    revoked = (x509.RevokedCertificateBuilder().serial_number(key.certificate.serial_number)
               .revocation_date(now - dt.timedelta(minutes=1)).build())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
           .last_update(now - dt.timedelta(minutes=1)).next_update(now + dt.timedelta(days=7))
           .add_revoked_certificate(revoked).sign(ca_key, hashes.SHA256()))
    out = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(out, None, crls=[asn1_crl.CertificateList.load(
        crl.public_bytes(serialization.Encoding.DER))], strict=False)
    with_crl = out.getvalue()
    (report,) = verify_pdf(with_crl, pki.trust_roots)
    assert report.intact and not report.trusted
    assert (report.trust_problem, report.revoked) == ("revoked", True)
    assert changes_after(with_crl, signed) == []  # validation data is not a change
