"""The demo PKI: a local test CA ("CCHC Demo CA"), a timestamping key for B-T signatures with
pyHanko's DummyTimeStamper, and PKCS#12 files per person, in one folder (instance/pki).

For demo mode and tests only: the keys are unprotected files and the CA is trusted by nobody
else. In production the server holds no signing key; people sign with their own certificates.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign import timestamps
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from .signing import SignerKey, SigningError, load_pkcs12


class DemoTimeStamper(timestamps.DummyTimeStamper):
    """pyHanko's DummyTimeStamper with its RSA key parsed once: parsing re-validates the key,
    about 60 ms for RSA-2048, on every timestamp otherwise."""

    _parsed_key = None

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, when: dt.datetime):
        from asn1crypto import cms, core
        from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute

        if self._parsed_key is None:
            self._parsed_key = serialization.load_der_private_key(
                self.tsa_key.dump(), password=None, unsafe_skip_rsa_key_validation=True)
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(when)})),
            simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._parsed_key.sign(signed_attrs.dump(), PKCS1v15(),
                                          get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs



DEMO_CA_NAME = "CCHC Demo CA"
DEMO_TSA_NAME = "CCHC Demo TSA"
DEMO_P12_PASSPHRASE = b"demo1234"
DEMO_PEOPLE = (
    ("leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ", "Sở Nội vụ tỉnh Cao Bằng"),
    ("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân", "UBND xã Cô Ngân"),
)


@dataclass(frozen=True)
class DemoPKI:
    """A local test CA, a timestamping key and per-person PKCS#12 files in one folder.

    For demo mode and tests only: the keys are unprotected files (the PKCS#12 passphrase is
    DEMO_P12_PASSPHRASE) and the CA is trusted by nobody else.
    """

    directory: Path

    @property
    def ca_cert_path(self) -> Path:
        """Where the demo CA's certificate (PEM) is kept."""
        return self.directory / "ca.cert.pem"

    @property
    def ca_cert(self) -> asn1_x509.Certificate:
        """The demo CA's certificate."""
        return load_cert_from_pemder(str(self.ca_cert_path))

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The roots a signature made with the demo PKI is validated against."""
        return [self.ca_cert]

    def timestamper(self) -> timestamps.DummyTimeStamper:
        """An in-process timestamp authority (B-T signatures without a network); one per
        folder and process, so its dummy response for size estimates is computed once."""
        return _demo_timestamper(str(self.directory), self.ca_cert_path.stat().st_mtime_ns)

    def p12_path(self, username: str) -> Path:
        """Where a person's demo PKCS#12 key file is kept (name made file-safe)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", username)[:60]
        if safe != username:
            safe += "-" + hashlib.sha256(username.encode()).hexdigest()[:8]
        return self.directory / "people" / f"{safe}.p12"

    def ensure_person(self, username: str, full_name: str, title: str,
                      organization: str = "") -> Path:
        """The person's PKCS#12 file, issued once (again if the name or title changed)."""
        path = self.p12_path(username)
        full_name = unicodedata.normalize("NFC", full_name).strip()
        title = unicodedata.normalize("NFC", title or "").strip()
        if path.exists() and self._matches(path, full_name, title):
            return path
        with _directory_lock(self.directory):
            if path.exists() and self._matches(path, full_name, title):
                return path
            ca_key = _load_key(self.directory / "ca.key.pem")
            ca_cert = x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
            if organization:
                attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
            if title:
                attrs.append(x509.NameAttribute(NameOID.TITLE, title))
            attrs += [x509.NameAttribute(NameOID.USER_ID, username),
                      x509.NameAttribute(NameOID.COMMON_NAME, full_name)]
            now = dt.datetime.now(dt.UTC)
            cert = _person_certificate(x509.Name(attrs), key, ca_cert, ca_key,
                                       now - dt.timedelta(days=1), now + dt.timedelta(days=5 * 365))
            data = pkcs12.serialize_key_and_certificates(
                full_name.encode("utf-8"), key, cert, [ca_cert],
                serialization.BestAvailableEncryption(DEMO_P12_PASSPHRASE))
            _write_atomic(path, data)
        return path

    def signer(self, username: str, full_name: str, title: str,
               organization: str = "") -> SignerKey:
        """The person's SignerKey, issuing their demo certificate on first use (and again when
        the name or title changed)."""
        path = self.p12_path(username)
        if path.exists():
            try:
                key = load_pkcs12(path, DEMO_P12_PASSPHRASE, other_certs=[self.ca_cert])
            except SigningError:
                key = None
            if key is not None and _same_person(key, full_name, title):
                return key
        path = self.ensure_person(username, full_name, title, organization)
        return load_pkcs12(path, DEMO_P12_PASSPHRASE, other_certs=[self.ca_cert])

    @staticmethod
    def _matches(path: Path, full_name: str, title: str) -> bool:
        try:
            key = load_pkcs12(path, DEMO_P12_PASSPHRASE)
        except SigningError:
            return False
        return _same_person(key, full_name, title)


def _same_person(key: SignerKey, full_name: str, title: str) -> bool:
    full_name = unicodedata.normalize("NFC", full_name).strip()
    title = unicodedata.normalize("NFC", title or "").strip()
    return key.common_name == full_name and key.title == title


@functools.lru_cache(maxsize=8)
def _demo_timestamper(directory: str, _ca_version: int) -> timestamps.DummyTimeStamper:
    folder = Path(directory)
    return DemoTimeStamper(
        tsa_cert=load_cert_from_pemder(str(folder / "tsa.cert.pem")),
        tsa_key=load_private_key_from_pemder(str(folder / "tsa.key.pem"), passphrase=None),
        certs_to_embed=[load_cert_from_pemder(str(folder / "ca.cert.pem"))])


def ensure_demo_pki(directory: str | os.PathLike, people: bool = True) -> DemoPKI:
    """Create (once) the demo CA, TSA and (with `people`) the demo accounts' PKCS#12 files in
    `directory`. Checking the people's files decrypts them (about 0.1 s each): the server's
    everyday use asks for the CA only and issues people's keys when they sign."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    pki = DemoPKI(folder)
    if not (pki.ca_cert_path.exists() and (folder / "tsa.cert.pem").exists()):
        with _directory_lock(folder):
            if not pki.ca_cert_path.exists():
                _make_ca(folder)
            if not (folder / "tsa.cert.pem").exists():
                _make_tsa(folder)
    if people:
        for username, full_name, title, organization in DEMO_PEOPLE:
            pki.ensure_person(username, full_name, title, organization)
    return pki


@contextlib.contextmanager
def _directory_lock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _load_key(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(**flags) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def _builder(subject, issuer, public_key, not_before, not_after) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False))


def _person_certificate(subject: x509.Name, key, ca_cert: x509.Certificate, ca_key,
                        not_before: dt.datetime, not_after: dt.datetime,
                        extensions=()) -> x509.Certificate:
    builder = (_builder(subject, ca_cert.subject, key.public_key(), not_before, not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
               .add_extension(_key_usage(digital_signature=True, content_commitment=True), True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_cert.public_key()), False))
    for extension in extensions:
        builder = builder.add_extension(extension, False)
    return builder.sign(ca_key, hashes.SHA256())


def _make_ca(folder: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kiểm tra CCHC (demo)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (_builder(name, name, key.public_key(), now - dt.timedelta(days=1),
                     now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), True)
            .sign(key, hashes.SHA256()))
    _write_atomic(folder / "ca.key.pem", _key_pem(key))
    _write_atomic(folder / "ca.cert.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _make_tsa(folder: Path) -> None:
    ca_key = _load_key(folder / "ca.key.pem")
    ca_cert = x509.load_pem_x509_certificate((folder / "ca.cert.pem").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # DummyTimeStamper: RSA
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, DEMO_TSA_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (_builder(name, ca_cert.subject, key.public_key(), now - dt.timedelta(days=1),
                     now + dt.timedelta(days=10 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(_key_usage(digital_signature=True), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    _write_atomic(folder / "tsa.key.pem", _key_pem(key))
    _write_atomic(folder / "tsa.cert.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def issue_certificate(pki: DemoPKI, username: str, full_name: str, title: str = "", *,
                      not_before: dt.datetime | None = None,
                      not_after: dt.datetime | None = None, crl_url: str | None = None) -> bytes:
    """A PKCS#12 (passphrase DEMO_P12_PASSPHRASE) with a new key and a certificate from the demo
    CA, with the validity given and, with `crl_url`, a CRL distribution point as real CAs
    declare (tests: expired or revoked certificates); not stored anywhere."""
    ca_key = _load_key(pki.directory / "ca.key.pem")
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert_path.read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    attrs += [x509.NameAttribute(NameOID.USER_ID, username),
              x509.NameAttribute(NameOID.COMMON_NAME, full_name)]
    now = dt.datetime.now(dt.UTC)
    extensions = [] if crl_url is None else [x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(crl_url)], None, None, None)])]
    cert = _person_certificate(x509.Name(attrs), key, ca_cert, ca_key,
                               not_before or now - dt.timedelta(days=1),
                               not_after or now + dt.timedelta(days=365), extensions)
    return pkcs12.serialize_key_and_certificates(
        full_name.encode("utf-8"), key, cert, [ca_cert],
        serialization.BestAvailableEncryption(DEMO_P12_PASSPHRASE))


__all__ = ["DEMO_P12_PASSPHRASE", "DEMO_PEOPLE", "DemoPKI", "DemoTimeStamper", "ensure_demo_pki",
           "issue_certificate"]
