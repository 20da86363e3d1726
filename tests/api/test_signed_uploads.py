"""Uploading minutes signed with one's own certificate: only the stored final PDF plus one
signature — the uploader's, in their box, with a certificate registered to them, trusted and
valid when it signed — is accepted. Each forgery is refused with a 422 that says what is wrong,
and nothing in the database changes."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from forgery import ATTACKS, unsigned_update
from sqlalchemy import select
from tables import table_rows

from inspection.extensions import db
from inspection.models import Inspection, MinutesRevision, User, UserCertificate
from inspection.pdf import LEADER_FIELD, unit_field
from inspection.services.certificates import register_certificate
from inspection.services.certinfo import facts
from inspection.services.demo_pki import DEMO_P12_PASSPHRASE, issue_certificate
from inspection.services.signing import load_pkcs12, sign_pdf

LEADER_NAME, LEADER_TITLE = "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def pem(key) -> bytes:
    return key.certificate.dump()


def post(client, url, **kwargs):
    return client.post(url, headers={"X-CSRF-Token": client.csrf}, **kwargs)


@pytest.fixture
def minutes(demo, login, instance_pki):
    """Cô Ngân's minutes built by the leader; the leader's and the representative's demo
    certificates registered to their accounts (as they would on their account page)."""
    co_ngan = next(i for i in db.session.scalars(select(Inspection)) if i.unit.code == "01567")
    leader = login("leader")
    assert post(leader, f"/api/v1/inspections/{co_ngan.id}/minutes").status_code == 201
    keys = {"leader": instance_pki.signer("leader", LEADER_NAME, LEADER_TITLE),
            "unitrep": instance_pki.signer("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân")}
    for username, key in keys.items():
        register_certificate(user(username), pem(key), user(username))
    db.session.commit()
    url = f"/api/v1/inspections/{co_ngan.id}/minutes"
    final = leader.get(url + ".pdf").data
    return {"url": url, "final": final, "leader": leader, "keys": keys, "pki": instance_pki,
            "inspection": co_ngan}


def signed(pdf: bytes, key, field: str, pki, timestamped: bool = True) -> bytes:
    return sign_pdf(pdf, key, "Ký bằng USB token", field, "Hạ Lang", "Ký biên bản kiểm tra",
                    timestamper=pki.timestamper() if timestamped else None)


def refused(client, url: str, pdf: bytes, *words: str) -> dict:
    """Upload and check the answer is a 422 naming `words`, with every table as it was."""
    before = table_rows()
    response = post(client, url + "/upload", data=pdf, content_type="application/pdf")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    for word in words:
        assert word in body["message"], (word, body["message"])
    assert table_rows() == before
    return body


def test_the_leaders_own_signature_on_the_exact_final_pdf_is_accepted(minutes):
    own = signed(minutes["final"], minutes["keys"]["leader"], LEADER_FIELD, minutes["pki"])
    accepted = post(minutes["leader"], minutes["url"] + "/upload", data=own,
                    content_type="application/pdf")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["signatures"][0]["certificate_subject"].startswith(LEADER_NAME)
    report = post(minutes["leader"], "/api/v1/minutes/verify", data=own,
                  content_type="application/pdf").get_json()
    assert report["valid"] and not report["fully_signed"]  # the unit has not signed yet
    assert report["signatures"][0]["account"]["username"] == "leader"
    assert report["signatures"][0]["slot"] == "leader" and report["signatures"][0]["matched"]


@pytest.mark.parametrize("attack,words", [
    ("page content", ("nội dung trang 1 bị thay đổi",)),
    ("annotation", ("thêm chú thích",)),
    ("form field", ("thêm trường biểu mẫu “TongDiem”",)),
    ("new page", ("thêm 1 trang mới",)),
])
def test_an_unsigned_update_before_ones_own_signature_is_refused(minutes, attack, words):
    """The forged text is under the uploader's own (intact, trusted, registered) signature; the
    comparison from the stored revision finds it and says what it is, in both languages."""
    forged = signed(unsigned_update(minutes["final"], ATTACKS[attack]), minutes["keys"]["leader"],
                    LEADER_FIELD, minutes["pki"])
    body = refused(minutes["leader"], minutes["url"], forged, *words)
    assert body["errors"]["changes"]
    english = minutes["leader"].post(minutes["url"] + "/upload", data=forged,
                                     content_type="application/pdf",
                                     headers={"Accept-Language": "en",
                                              "X-CSRF-Token": minutes["leader"].csrf})
    assert english.status_code == 422
    assert english.get_json()["message"].startswith("The signed file is refused")


def test_the_units_forgery_after_the_leaders_signature_is_refused(minutes, login):
    leader_signed = signed(minutes["final"], minutes["keys"]["leader"], LEADER_FIELD,
                           minutes["pki"])
    assert post(minutes["leader"], minutes["url"] + "/upload", data=leader_signed,
                content_type="application/pdf").status_code == 200
    unitrep = login("unitrep")
    current = unitrep.get(minutes["url"] + ".pdf").data
    forged = signed(unsigned_update(current, ATTACKS["page content"]), minutes["keys"]["unitrep"],
                    unit_field(1), minutes["pki"])
    refused(unitrep, minutes["url"], forged, "nội dung trang 1 bị thay đổi")
    honest = signed(current, minutes["keys"]["unitrep"], unit_field(1), minutes["pki"])
    done = post(unitrep, minutes["url"] + "/upload", data=honest, content_type="application/pdf")
    assert done.status_code == 200 and done.get_json()["status"] == "signed"


def self_made(common_name: str, title: str) -> bytes:
    """A PKCS#12 with a self-made CA's certificate in someone's name: what anyone can make."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA Chính phủ (giả)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.TITLE, title),
                                     x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False),
                           True)
            .sign(ca_key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(b"x", key, cert, [ca],
                                                 serialization.BestAvailableEncryption(b"x"))


def test_a_self_made_certificate_with_the_right_name_is_refused(minutes):
    fake = load_pkcs12(self_made(LEADER_NAME, LEADER_TITLE), b"x")
    forged = signed(minutes["final"], fake, LEADER_FIELD, minutes["pki"])
    refused(minutes["leader"], minutes["url"], forged,
            "không do tổ chức chứng thực được tin cậy cấp",
            "chưa được đăng ký cho tài khoản của bạn")
    # Registering it is refused too.
    before = table_rows()
    page = minutes["leader"].post("/account/certificates", data={
        "csrf_token": minutes["leader"].csrf,
        "certificate": (io.BytesIO(fake.certificate.dump()), "gia.cer")},
        content_type="multipart/form-data")
    assert page.status_code == 422
    assert "không do tổ chức chứng thực được tin cậy cấp" in page.get_data(as_text=True)
    assert table_rows() == before


def test_a_valid_certificate_of_another_account_is_refused(minutes):
    """The unit representative's genuine certificate cannot fill the leader's box."""
    theirs = signed(minutes["final"], minutes["keys"]["unitrep"], LEADER_FIELD, minutes["pki"])
    refused(minutes["leader"], minutes["url"], theirs, "chưa được đăng ký cho tài khoản của bạn")


def test_an_expired_certificate_is_refused(minutes):
    """Registered while it was valid, expired since: a signature made now is refused."""
    now = dt.datetime.now(dt.UTC)
    key = load_pkcs12(issue_certificate(minutes["pki"], "leader", LEADER_NAME, LEADER_TITLE,
                                        not_before=now - dt.timedelta(days=400),
                                        not_after=now - dt.timedelta(days=1)), DEMO_P12_PASSPHRASE)
    info = facts(key.certificate)
    db.session.add(UserCertificate(user_id=user("leader").id, sha256=info.sha256,
                                   subject=info.subject,
                                   issuer=info.issuer, serial=info.serial,
                                   not_before=info.not_before,
                                   not_after=info.not_after, der=key.certificate.dump()))
    db.session.commit()
    forged = signed(minutes["final"], key, LEADER_FIELD, minutes["pki"])
    refused(minutes["leader"], minutes["url"], forged, "đã hết hạn")


def test_a_registered_certificate_that_was_withdrawn_is_refused(minutes):
    from inspection.services.certificates import registered_certificate, withdraw_certificate

    row = registered_certificate(minutes["keys"]["leader"].fingerprint)
    withdraw_certificate(row, user("leader"))
    db.session.commit()
    own = signed(minutes["final"], minutes["keys"]["leader"], LEADER_FIELD, minutes["pki"])
    refused(minutes["leader"], minutes["url"], own, "chưa được đăng ký cho tài khoản của bạn")


def test_a_signature_outside_ones_box_or_a_second_one_is_refused(minutes):
    key, pki = minutes["keys"]["leader"], minutes["pki"]
    new_box = signed(minutes["final"], key, "ChuKyMoi", pki)
    refused(minutes["leader"], minutes["url"], new_box, "ô chữ ký mới", "ô chữ ký của bạn")
    unit_box = signed(minutes["final"], key, unit_field(1), pki)
    refused(minutes["leader"], minutes["url"], unit_box, "ô chữ ký của bạn (SigLeader)")
    twice = signed(signed(minutes["final"], key, LEADER_FIELD, pki), minutes["keys"]["unitrep"],
                   unit_field(1), pki)
    refused(minutes["leader"], minutes["url"], twice, "đúng một chữ ký mới")
    other_file = signed(minutes["final"].replace(b"/Producer", b"/Producex", 1), key, LEADER_FIELD,
                        pki)
    refused(minutes["leader"], minutes["url"], other_file, "không bắt đầu đúng bằng biên bản")
    appended = signed(minutes["final"], key, LEADER_FIELD, pki) + b"\n% appended\n"
    refused(minutes["leader"], minutes["url"], appended, "không phủ toàn bộ tệp")
    assert db.session.scalar(select(MinutesRevision)).signatures == []


def test_in_production_only_the_configured_certification_authorities_are_trusted(minutes, app,
                                                                                 tmp_path):
    """Outside demo mode the server holds no key and trusts TRUSTED_CA_FILES only: the demo CA's
    signature is refused until the demo CA is configured."""
    other = tmp_path / "another-ca.pem"
    other.write_bytes((minutes["pki"].directory / "tsa.cert.pem").read_bytes())
    app.config["TRUSTED_CA_FILES"] = [str(other)]
    leader, url = minutes["leader"], minutes["url"]
    own = signed(minutes["final"], minutes["keys"]["leader"], LEADER_FIELD, minutes["pki"])
    refused(leader, url, own, "không do tổ chức chứng thực được tin cậy cấp")
    assert post(leader, url + "/sign").status_code == 409  # no key on the server
    app.config["TRUSTED_CA_FILES"] = [str(minutes["pki"].ca_cert_path)]
    accepted = post(leader, url + "/upload", data=own, content_type="application/pdf")
    assert accepted.status_code == 200, accepted.get_json()
