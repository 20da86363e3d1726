"""Facts about X.509 certificates, for signing, verification and the accounts' registered
certificates: names, fingerprint, issuer, serial, validity; loading PEM or DER.

Pure functions with no database: the certificate is what the person or the PDF handed over.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

MAX_CERTIFICATE_BYTES = 64 * 1024  # a .cer or .pem holding one certificate is a few KB


def name_attr(cert: asn1_x509.Certificate, key: str) -> str:
    """One attribute of the certificate's subject ("common_name", "title", …), NFC, "" if absent."""
    try:
        value = cert.subject.native.get(key, "")
    except Exception:  # noqa: BLE001 - a malformed name is reported as absent
        return ""
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return unicodedata.normalize("NFC", str(value or ""))


def certificate_sha256(cert: asn1_x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's DER encoding (its fingerprint)."""
    return hashlib.sha256(cert.dump()).hexdigest()


def as_asn1(cert: Any) -> asn1_x509.Certificate:
    """An asn1crypto certificate from asn1crypto or cryptography objects, DER/PEM bytes or a
    path; raises ValueError or TypeError."""
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, bytes | bytearray):
        data = bytes(cert)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        loaded = asn1_x509.Certificate.load(data)
        loaded.native  # noqa: B018 - parse it all now, so garbage fails here and not later
        return loaded
    if isinstance(cert, str | os.PathLike):
        with open(cert, "rb") as handle:
            return as_asn1(handle.read())
    raise TypeError(f"not a certificate: {type(cert).__name__}")


@dataclass(frozen=True)
class CertificateFacts:
    """What a person is shown about a certificate, and what the checks need."""

    sha256: str
    subject: str  # "Nguyễn Văn An, Phó Giám đốc Sở Nội vụ, Sở Nội vụ tỉnh Cao Bằng"
    common_name: str
    issuer: str
    serial: str  # hexadecimal, as certificate viewers print it
    not_before: dt.datetime
    not_after: dt.datetime
    is_ca: bool
    can_sign_documents: bool  # key usage allows digital signatures (or says nothing)

    def valid_at(self, moment: dt.datetime) -> bool:
        """Whether the certificate's validity period contains the moment."""
        return self.not_before <= moment <= self.not_after


def _readable_name(name: asn1_x509.Name) -> str:
    try:
        native = name.native
    except Exception:  # noqa: BLE001
        return ""
    parts = []
    for key in ("common_name", "title", "organizational_unit_name", "organization_name",
                "locality_name", "state_or_province_name", "country_name"):
        value = native.get(key)
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        if value:
            parts.append(unicodedata.normalize("NFC", str(value)))
    return ", ".join(parts)


def facts(cert: asn1_x509.Certificate) -> CertificateFacts:
    """The facts of a parsed certificate."""
    validity = cert["tbs_certificate"]["validity"]
    try:
        usage = cert.key_usage_value.native if cert.key_usage_value is not None else None
    except Exception:  # noqa: BLE001
        usage = set()
    return CertificateFacts(
        sha256=certificate_sha256(cert),
        subject=_readable_name(cert.subject)[:500],
        common_name=name_attr(cert, "common_name")[:200],
        issuer=_readable_name(cert.issuer)[:500],
        serial=format(cert.serial_number, "x").upper()[:80],
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        is_ca=bool(cert.ca),
        can_sign_documents=usage is None or bool({"digital_signature", "non_repudiation"} & usage),
    )


def parse_certificate(data: bytes) -> tuple[asn1_x509.Certificate, CertificateFacts]:
    """A certificate from the bytes of a .cer/.crt (DER) or .pem file; raises ValueError."""
    if not data or len(data) > MAX_CERTIFICATE_BYTES:
        raise ValueError("empty or too large")
    try:
        cert = as_asn1(data)
        return cert, facts(cert)
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds on garbage
        raise ValueError(f"not an X.509 certificate: {type(exc).__name__}") from exc
