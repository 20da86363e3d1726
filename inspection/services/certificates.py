"""Certificates registered to accounts, and the certification authorities this server trusts.

An uploaded signature fills an account's slot in the minutes only when its certificate is one
registered to that account (by the person on their account page, or by the secretariat for
them) and chains to a trusted CA: `TRUSTED_CA_FILES` in production, only the demo CA in demo
mode. Registering and withdrawing are audited. A withdrawn certificate is kept: it still names
the signer of minutes signed before.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from flask import current_app
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from sqlalchemy import select

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import User, UserCertificate
from ..models.base import utcnow
from ..models.users import InvalidAccountChange
from . import audit
from .certinfo import as_asn1, facts, parse_certificate
from .demo_pki import DemoPKI, ensure_demo_pki
from .signing import outside_event_loop


def demo_signing() -> bool:
    """Demo mode: the server holds demo keys and trusts only the demo CA. Also a test run that
    configures no trusted CA of its own."""
    config = current_app.config
    return bool(config.get("DEMO") or (current_app.testing and not config.get("TRUSTED_CA_FILES")))


def demo_pki() -> DemoPKI:
    """The instance's demo PKI (instance/pki): its CA made on first use, people's keys when they
    sign."""
    return ensure_demo_pki(Path(current_app.instance_path) / "pki", people=False)


def trust_roots() -> list[asn1_x509.Certificate]:
    """The CAs signatures must chain to: the demo CA in demo mode, else TRUSTED_CA_FILES."""
    if demo_signing():
        return list(demo_pki().trust_roots)
    roots = []
    for path in current_app.config.get("TRUSTED_CA_FILES", ()):
        roots.append(as_asn1(str(path)))
    return roots


def fetch_revocation() -> bool:
    """Whether the server may fetch CRLs and OCSP answers from the certificates' addresses
    (REVOCATION_FETCHING; off by default: embedded revocation data is used when present)."""
    return bool(current_app.config.get("REVOCATION_FETCHING"))


def chain_problem(cert: asn1_x509.Certificate, moment: dt.datetime,
                  roots: list[asn1_x509.Certificate] | None = None) -> str | None:
    """Why the certificate does not chain to a trusted CA at that moment (None: it does)."""
    roots = trust_roots() if roots is None else roots
    if not roots:
        return "no trusted CA is configured (TRUSTED_CA_FILES)"
    context = ValidationContext(trust_roots=roots, moment=moment, allow_fetching=fetch_revocation(),
                                revocation_mode="soft-fail")
    validator = CertificateValidator(cert, validation_context=context)
    try:
        outside_event_loop(lambda: asyncio.run(validator.async_validate_path()))
    except Exception as exc:  # noqa: BLE001 - path building, expiry, revocation, …
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def registered_certificate(sha256: str) -> UserCertificate | None:
    """The registration of the certificate with this fingerprint, if any."""
    return db.session.scalar(select(UserCertificate).where(UserCertificate.sha256 == sha256))


def register_certificate(user: User, data: bytes, by: User | None,
                         now: dt.datetime | None = None) -> UserCertificate:
    """Register a .cer/.pem certificate to the account, after checking that it is a person's
    signing certificate, valid now and issued by a trusted CA; audited. Raises
    ValidationFailed or Conflict (already registered)."""
    now = now or utcnow()
    try:
        cert, info = parse_certificate(data)
    except ValueError as exc:
        raise ValidationFailed(
            "Tệp không phải chứng thư số (.cer, .crt hoặc .pem chứa một chứng thư X.509).",
            "The file is not a certificate (.cer, .crt or .pem holding one X.509 certificate).",
            {"file": ["Tệp không phải chứng thư số."]}) from exc
    problems = []
    if info.is_ca:
        problems.append(("đây là chứng thư của tổ chức chứng thực, không phải của một người",
                         "it is a certification authority's certificate, not a person's"))
    elif not info.can_sign_documents:
        problems.append(("chứng thư không được dùng để ký số", "it may not sign documents"))
    if not info.valid_at(now):
        problems.append(("chứng thư đã hết hạn hoặc chưa có hiệu lực",
                         "it has expired or is not valid yet"))
    elif chain_problem(cert, now) is not None:
        problems.append(("chứng thư không do tổ chức chứng thực được tin cậy cấp",
                         "it is not issued by a trusted certification authority"))
    if problems:
        raise ValidationFailed(
            "Không đăng ký được chứng thư số: " + "; ".join(vi for vi, _ in problems) + ".",
            "The certificate cannot be registered: " + "; ".join(en for _, en in problems) + ".",
            {"file": [vi for vi, _ in problems]})
    existing = registered_certificate(info.sha256)
    if existing is not None:
        if existing.user_id == user.id:
            raise Conflict("Chứng thư số này đã được đăng ký cho tài khoản.",
                           "This certificate is already registered to the account.")
        raise Conflict("Chứng thư số này đã được đăng ký cho một tài khoản khác.",
                       "This certificate is registered to another account.")
    return _add(user, cert, by)


def _add(user: User, cert: asn1_x509.Certificate, by: User | None, **details) -> UserCertificate:
    info = facts(cert)
    row = UserCertificate(user_id=user.id, sha256=info.sha256, subject=info.subject,
                          issuer=info.issuer, serial=info.serial, not_before=info.not_before,
                          not_after=info.not_after, der=cert.dump(),
                          added_by_id=by.id if by is not None else None)
    db.session.add(row)
    db.session.flush()
    audit.record("certificate.register", row, by, account=user.username, sha256=info.sha256,
                 subject=info.subject, serial=info.serial, **details)
    return row


def ensure_server_key_registered(user: User, cert: asn1_x509.Certificate) -> UserCertificate:
    """Register the certificate of a key the server issued and holds for the account (demo
    mode), once; audited as done by the server."""
    row = registered_certificate(facts(cert).sha256)
    if row is not None:
        return row
    return _add(user, cert, None, issued_by_server=True)


def withdraw_certificate(row: UserCertificate, by: User) -> None:
    """Stop accepting new signatures made with this certificate; audited."""
    try:
        row.withdraw(by, utcnow())
    except InvalidAccountChange as exc:
        raise Conflict("Chứng thư số này đã được gỡ trước đó.",
                       "This certificate was withdrawn already.") from exc
    audit.record("certificate.withdraw", row, by, account=row.user.username, sha256=row.sha256)


def certificate_of(user: User, certificate_id: int | None) -> UserCertificate | None:
    """The account's registered certificate with that id (None for another account's)."""
    row = db.session.get(UserCertificate, certificate_id) if certificate_id else None
    return row if row is not None and row.user_id == user.id else None
