"""Verifying signed PDFs: bytes → one report per signature, and what changed after a stored
revision.

- `verify_pdf` reports every signature (signer, title, time, intact, valid, trusted at the
  signing time, revoked, what it covers, certificate facts) and never raises: a broken,
  truncated, tampered or non-PDF input gives a report that says invalid. Revocation data is
  used when the file carries it (the signature's own CRL/OCSP attribute, the document security
  store) and fetched from the certificates' addresses only with `fetch_revocation=True`; with
  neither, a certificate is not reported revoked (pyHanko's soft-fail mode).
- `changes_after` compares a file with the stored revision it must start with: pyHanko's
  difference analysis runs from that revision (not only from each signature's own revision, so
  an unsigned update slipped in before a signature is seen), with a policy that allows
  signatures into the prepared fields, invisible signature fields (document timestamps), DSS/VRI
  validation data and the metadata a signing tool updates, and nothing else. Each change is
  described in words a reader understands (page content, annotation, form field, page…).

Pure functions over bytes; the database side (whose certificate, which slot, fully signed or
not) is `services/minutes_verification.py`.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from .certinfo import as_asn1, certificate_sha256, facts, name_attr
from .signing import clean_line, outside_event_loop

# pyHanko logs a full traceback for every certificate it cannot chain to a trusted root (an
# official's own certificate, which the report says is not trusted anyway).
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

# Uploads may add signatures and nothing else (see the module docstring). Unlike pyHanko's
# default policy, values of other form fields may not change.
SIGNATURES_ONLY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    # /SigFlags: every signing tool marks the form "signatures exist, append only".
    form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()],
                               ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON
                               | {"/SigFlags"}),
)
# Catalog entries a signature may add or change; every other one is the document's.
CATALOG_SIGNING_KEYS = {"/AcroForm", "/DSS", "/Extensions", "/Metadata", "/MarkInfo",
                        "/Version", "/Pages"}
# Document information a reader sees (the viewer's title bar, the properties dialog); a signing
# tool updates only dates and its own name.
INFO_READER_KEYS = ("/Title", "/Author", "/Subject", "/Keywords")
MAX_PAGES = 5000


# --- reports --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureReport:
    """What a verifier says about one signature (or about a file that could not be read)."""

    field_name: str | None
    signer: str = ""  # common name of the certificate
    title: str = ""  # certificate TITLE attribute (chức vụ)
    organization: str = ""
    signing_time: dt.datetime | None = None  # from the timestamp token when there is one
    timestamped: bool = False  # by a timestamp authority this server trusts
    intact: bool = False  # the signed bytes are unchanged
    valid: bool = False  # the cryptographic signature checks out
    trusted: bool = False  # the certificate chains to a trusted root and was valid when signing
    trust_problem: str = ""  # untrusted | expired | not_yet_valid | revoked | "" when trusted
    revoked: bool = False
    bottom_line: bool = False  # pyHanko's overall verdict (includes modification checks)
    covers_whole_document: bool = False  # coverage ENTIRE_FILE: nothing was added after it
    coverage: str = ""
    signed_revision: int | None = None  # the file's revision (0 = first) this signature signs
    modification_level: str = ""
    modifications_ok: bool = False  # pyHanko's default policy accepts what came after it
    certificate_sha256: str = ""
    certificate_issuer: str = ""
    certificate_serial: str = ""
    certificate_not_before: dt.datetime | None = None
    certificate_not_after: dt.datetime | None = None
    reason: str = ""
    location: str = ""
    error: str | None = None  # why the file or this signature could not be checked

    @property
    def ok(self) -> bool:
        """Intact, valid and trusted, with no disallowed change after it."""
        return self.intact and self.valid and self.trusted and self.bottom_line

    @classmethod
    def broken(cls, error: str, field_name: str | None = None) -> SignatureReport:
        """The report of a file or signature that could not be checked at all."""
        return cls(field_name=field_name, error=error)


def _enum_name(value: Any) -> str:
    return getattr(value, "name", "") or ("" if value is None else str(value))


def verify_pdf(pdf: bytes, trust_roots: Iterable[Any] = (), *,
               fetch_revocation: bool = False) -> list[SignatureReport]:
    """One report per signature, oldest first; [] for a readable PDF without signatures.

    Never raises on bad input: an unreadable, truncated or non-PDF file gives one report with
    `error` set and every check False; a signature that cannot be checked gives a report with
    its error. Trust roots may be asn1crypto or cryptography certificates, DER/PEM bytes or
    paths.
    """
    try:
        roots = [as_asn1(c) for c in trust_roots]
    except Exception as exc:  # noqa: BLE001
        return [SignatureReport.broken(f"invalid trust root: {exc}")]
    if not isinstance(pdf,
                      bytes | bytearray) or not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        return [SignatureReport.broken("not a PDF file")]
    try:
        reader = PdfFileReader(io.BytesIO(bytes(pdf)), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - pyHanko raises KeyError, PdfReadError, …
        return [SignatureReport.broken(f"unreadable PDF: {type(exc).__name__}: {exc}")]
    if not embedded:
        return []
    store = _document_security_store(reader)
    return [_report(sig, roots, store, fetch_revocation) for sig in embedded]


def _document_security_store(reader: PdfFileReader) -> dict[str, list]:
    """Certificates, CRLs and OCSP responses the file carries in its DSS (for every signature)."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        return {"other_certs": list(dss.load_certs()),
                "crls": [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls],
                "ocsps": [asn1_ocsp.OCSPResponse.load(ref.get_object().data)
                          for ref in dss.ocsps]}
    except Exception:  # noqa: BLE001 - no DSS (the usual case), or one that cannot be read
        return {"other_certs": [], "crls": [], "ocsps": []}


def _signature_revinfo(sig) -> dict[str, list]:
    """CRLs and OCSP responses embedded in the signature itself (adbe-revocationInfoArchival)."""
    try:
        archive = find_unique_cms_attribute(sig.signer_info["signed_attrs"],
                                            "adobe_revocation_info_archival")
    except Exception:  # noqa: BLE001 - absent, or more than one (then it is not used)
        return {"crls": [], "ocsps": []}
    crls = list(archive["crl"]) if archive["crl"] else []
    ocsps = list(archive["ocsp"]) if archive["ocsp"] else []
    return {"crls": crls, "ocsps": ocsps}


def _context(roots, store, revinfo, fetch: bool, moment: dt.datetime | None) -> ValidationContext:
    return ValidationContext(trust_roots=roots, other_certs=store["other_certs"],
                             crls=store["crls"] + revinfo["crls"],
                             ocsps=store["ocsps"] + revinfo["ocsps"],
                             allow_fetching=fetch, revocation_mode="soft-fail", moment=moment)


def _trust_problem(status, cert_facts, when: dt.datetime | None) -> str:
    if status.trusted:
        return ""
    if status.revocation_details is not None:
        return "revoked"
    indication = _enum_name(getattr(status, "trust_problem_indic", None))
    if "REVOKED" in indication:
        return "revoked"
    if when is not None and cert_facts is not None:
        if when < cert_facts.not_before:
            return "not_yet_valid"
        if when > cert_facts.not_after:
            return "expired"
    if "OUT_OF_BOUNDS" in indication or "EXPIRED" in indication:
        return "expired"
    if "NOT_YET_VALID" in indication:
        return "not_yet_valid"
    return "untrusted"


def _report(sig, roots: list[asn1_x509.Certificate], store: dict, fetch: bool) -> SignatureReport:
    name = getattr(sig, "field_name", None)
    info: dict[str, Any] = {"field_name": name}
    cert_facts = None
    try:
        cert = sig.signer_cert
        cert_facts = facts(cert)
        info.update(signer=name_attr(cert, "common_name"), title=name_attr(cert, "title"),
                    organization=name_attr(cert, "organization_name"),
                    certificate_sha256=certificate_sha256(cert),
                    certificate_issuer=cert_facts.issuer, certificate_serial=cert_facts.serial,
                    certificate_not_before=cert_facts.not_before,
                    certificate_not_after=cert_facts.not_after)
    except Exception as exc:  # noqa: BLE001
        return SignatureReport.broken(f"unreadable signature: {type(exc).__name__}: {exc}", name)
    try:
        sig_obj = sig.sig_object
        info["reason"] = clean_line(str(sig_obj.get("/Reason", "")))
        info["location"] = clean_line(str(sig_obj.get("/Location", "")))
    except Exception:  # noqa: BLE001
        pass
    revinfo = _signature_revinfo(sig)
    try:
        context = _context(roots, store, revinfo, fetch, None)
        status = outside_event_loop(validate_pdf_signature, sig,
                                    signer_validation_context=context,
                                    ts_validation_context=context)
    except Exception as exc:  # noqa: BLE001 - tampered structures can make pyHanko raise
        return SignatureReport(**info, error=f"{type(exc).__name__}: {exc}")
    ts = status.timestamp_validity
    timestamped = ts is not None and ts.intact and ts.valid and ts.trusted
    when = ts.timestamp if timestamped else status.signer_reported_dt
    trusted = bool(status.trusted)
    problem = _trust_problem(status, cert_facts, when)
    if not trusted and problem in ("expired", "not_yet_valid") and when is not None \
            and cert_facts.valid_at(when):
        # Expired since: what counts is whether the certificate was valid when it signed.
        try:
            again = outside_event_loop(validate_pdf_signature, sig,
                                       signer_validation_context=_context(roots, store, revinfo,
                                                                          fetch, when),
                                       ts_validation_context=context)
            trusted = bool(again.trusted)
            problem = _trust_problem(again, cert_facts, when)
        except Exception:  # noqa: BLE001
            pass
    coverage = _enum_name(status.coverage)
    return SignatureReport(
        **info, signing_time=when, timestamped=timestamped,
        intact=bool(status.intact), valid=bool(status.valid), trusted=trusted,
        trust_problem=problem, revoked=problem == "revoked",
        bottom_line=bool(status.intact and status.valid and trusted
                         and (status.docmdp_ok or status.modification_level is None)
                         and status.modification_level != ModificationLevel.OTHER),
        covers_whole_document=coverage == "ENTIRE_FILE", coverage=coverage,
        signed_revision=getattr(sig, "signed_revision", None),
        modification_level=_enum_name(status.modification_level),
        modifications_ok=bool(status.docmdp_ok or status.modification_level is None))


def first_revision_bytes(pdf: bytes) -> bytes:
    """The bytes of the file's first revision (up to and including its first %%EOF line).

    For an incrementally signed file this is the document as it was before anyone signed.
    Raises ValueError when the file cannot be read as a PDF.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        info = reader.xrefs.get_xref_container_info(0)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"unreadable PDF: {exc}") from exc
    end = pdf.find(b"%%EOF", info.end_location)
    if end < 0:
        raise ValueError("no %%EOF after the first cross-reference section")
    end += len(b"%%EOF")
    if pdf[end:end + 2] == b"\r\n":
        end += 2
    elif pdf[end:end + 1] in (b"\n", b"\r"):
        end += 1
    return pdf[:end]


# --- what changed after the stored revision -------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One change after the stored revision that is not a signature, in words."""

    kind: str  # page_content, page_added, page_removed, annotation, signature_box, form_field,
    #            document_info, document_structure, other, unreadable, not_this_document
    vi: str
    en: str
    page: int | None = None  # 1-based

    def text(self, locale: str) -> str:
        """The description in the given language (Vietnamese unless English is asked for)."""
        return self.en if locale == "en" else self.vi


NOT_THIS_DOCUMENT = Change(
    "not_this_document",
    "tệp không bắt đầu đúng bằng biên bản gốc đã lưu (từng byte)",
    "the file does not start with the stored final PDF, byte for byte")
UNREADABLE = Change("unreadable", "không đọc được tệp PDF", "the PDF cannot be read")
OTHER = Change("other", "tệp có những thay đổi khác ngoài chữ ký số",
               "the file has changes other than signatures")


def revision_count(pdf: bytes) -> int:
    """How many revisions (the original and its incremental updates) the PDF has."""
    return PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions


def changes_after(pdf: bytes, base_pdf: bytes) -> list[Change]:
    """Everything the updates after `base_pdf` (which `pdf` must start with, byte for byte) do
    besides adding signatures; [] when they add signatures only."""
    if not pdf.startswith(base_pdf):
        return [NOT_THIS_DOCUMENT]
    try:
        base = revision_count(base_pdf) - 1
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        total = reader.xrefs.total_revisions
    except Exception:  # noqa: BLE001
        return [UNREADABLE]
    if total - 1 <= base:
        return []
    try:
        verdict = SIGNATURES_ONLY.review_file(reader, base)
        refused = isinstance(verdict, SuspiciousModification)
    except Exception:  # noqa: BLE001 - a structure pyHanko cannot analyse is not accepted
        refused = True
    found: list[Change] = []
    try:
        old = reader.get_historical_resolver(base)
        touched: set = set()
        for revision in range(base + 1, total):
            touched |= set(reader.xrefs.explicit_refs_in_revision(revision))
            for change in _describe(old, reader.get_historical_resolver(revision), touched):
                if change not in found:
                    found.append(change)
    except Exception:  # noqa: BLE001
        refused = True
    if refused and not found:
        found.append(OTHER)
    return found


def _ref(value) -> tuple[int, int] | None:
    if isinstance(value, generic.IndirectObject):
        return (value.idnum, value.generation)
    return None


def _same(old, new) -> bool:
    """Whether two raw PDF values are the same (references by number, not by content)."""
    if isinstance(old, generic.IndirectObject) or isinstance(new, generic.IndirectObject):
        return _ref(old) == _ref(new)
    if isinstance(old, generic.StreamObject):
        return isinstance(new, generic.StreamObject) and old.encoded_data == new.encoded_data \
            and _same_dict(old, new)
    if isinstance(old, generic.DictionaryObject):
        return isinstance(new, generic.DictionaryObject) and _same_dict(old, new)
    if isinstance(old, generic.ArrayObject):
        return isinstance(new, generic.ArrayObject) and len(old) == len(new) and all(
            _same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, generic.TextStringObject | generic.ByteStringObject):
        return isinstance(new, generic.TextStringObject | generic.ByteStringObject) \
            and old.original_bytes == new.original_bytes
    return type(old) is type(new) and old == new


def _same_dict(old, new, ignore: Iterable[str] = ()) -> bool:
    keys = (set(old) | set(new)) - set(ignore)
    return all(key in old and key in new and _same(old.raw_get(key), new.raw_get(key))
               for key in keys)


def _pages(resolver: HistoricalResolver) -> list[tuple[tuple | None, generic.DictionaryObject]]:
    """(reference, page dictionary) of every page, in order."""
    pages: list = []
    seen: set = set()

    def walk(raw, depth: int) -> None:
        ref = _ref(raw)
        if depth > 64 or len(pages) > MAX_PAGES or (ref is not None and ref in seen):
            raise ValueError("page tree too deep, too large or circular")
        if ref is not None:
            seen.add(ref)
        node = raw.get_object()
        if "/Kids" in node:
            for kid in node["/Kids"].iterate():
                walk(kid, depth + 1)
        else:
            pages.append((ref, node))

    walk(resolver.root.raw_get("/Pages"), 0)
    return pages


def _depends_on(resolver: HistoricalResolver, value, touched: set) -> bool:
    """Whether the value, or anything it refers to, was written after the stored revision."""
    deps = resolver.collect_dependencies(value)
    return any((ref.idnum, ref.generation) in touched for ref in deps)


def _is_signature_widget(annotation) -> bool:
    if annotation.get("/Subtype") != "/Widget":
        return False
    if annotation.get("/FT") == "/Sig":
        return True
    parent = annotation.get("/Parent")
    return parent is not None and parent.get("/FT") == "/Sig"


def _is_visible(annotation) -> bool:
    try:
        x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
    except Exception:  # noqa: BLE001
        return False
    return abs(x2 - x1) > 0 and abs(y2 - y1) > 0


def _annotations(page) -> dict:
    """The page's annotations by reference (or by position, for direct ones)."""
    raw = page.get("/Annots")
    if raw is None:
        return {}
    found = {}
    for index, item in enumerate(raw.iterate() if isinstance(raw, generic.ArrayObject) else []):
        found[_ref(item) or ("direct", index)] = item
    return found


def _fields(resolver: HistoricalResolver) -> dict[str, tuple[str, tuple | None, Any]]:
    """Fully qualified name → (field type, reference, raw field) of every form field."""
    found: dict = {}
    try:
        form = resolver.root["/AcroForm"]
        top = form["/Fields"]
    except KeyError:
        return found

    def walk(items, prefix: str, inherited: str, depth: int) -> None:
        if depth > 32 or len(found) > 10000:
            raise ValueError("form too deep or too large")
        for raw in items.iterate():
            node = raw.get_object()
            partial = str(node.get("/T", ""))
            name = f"{prefix}.{partial}" if prefix and partial else (partial or prefix)
            field_type = str(node.get("/FT", inherited))
            kids = node.get("/Kids")
            if kids is not None and any("/T" in kid.get_object() for kid in kids.iterate()):
                walk(kids, name, field_type, depth + 1)
            else:
                found[name] = (field_type, _ref(raw), raw)

    walk(top, "", "", 0)
    return found


def _label(text: str) -> str:
    return clean_line(text)[:60] or "?"


def _describe(old: HistoricalResolver, new: HistoricalResolver, touched: set) -> list[Change]:
    """The changes between the stored revision and a later one, in words."""
    changes: list[Change] = []
    old_pages, new_pages = _pages(old), _pages(new)
    if len(new_pages) > len(old_pages):
        extra = len(new_pages) - len(old_pages)
        changes.append(Change("page_added", f"thêm {extra} trang mới",
                              f"{extra} new page(s) added"))
    elif len(new_pages) < len(old_pages):
        gone = len(old_pages) - len(new_pages)
        changes.append(Change("page_removed", f"bớt {gone} trang", f"{gone} page(s) removed"))
    for number, ((old_ref, old_page), (new_ref, new_page)) in enumerate(
            zip(old_pages, new_pages, strict=False), start=1):
        content_changed = old_ref != new_ref or not _same_dict(old_page, new_page,
                                                               ("/Annots", "/Parent"))
        if not content_changed:
            content_changed = any(_depends_on(new, new_page.raw_get(key), touched)
                                  for key in new_page if key not in ("/Annots", "/Parent"))
        if content_changed:
            changes.append(Change(
                "page_content", f"nội dung trang {number} bị thay đổi (chữ, hình hoặc lớp che phủ)",
                f"the content of page {number} was changed (text, images or an overlay)", number))
        before, after = _annotations(old_page), _annotations(new_page)
        for key, raw in after.items():
            annotation = raw.get_object()
            if _is_signature_widget(annotation):
                if key not in before and _is_visible(annotation) and not _prepared(old, annotation):
                    changes.append(Change(
                        "signature_box",
                        f"một ô chữ ký mới được vẽ trên trang {number} (có thể che nội dung); hãy "
                        "ký vào ô chữ ký đã chuẩn bị sẵn trong biên bản",
                        f"a new visible signature box was drawn on page {number} (it can cover "
                        "the text); sign in the signature box prepared in the minutes", number))
                continue
            if key not in before and annotation.get("/Subtype") == "/Widget":
                continue  # the widget of a new form field: reported with the form's fields
            if key not in before:
                changes.append(Change(
                    "annotation", f"thêm chú thích, ghi chú hoặc hình vẽ (annotation) trên trang "
                    f"{number}", f"an annotation (comment, note or drawing) was added on page "
                    f"{number}", number))
            elif isinstance(key, tuple) and key in touched or not _same(before[key], raw):
                changes.append(Change(
                    "annotation", f"chú thích trên trang {number} bị sửa",
                    f"an annotation on page {number} was changed", number))
        if set(before) - set(after):
            changes.append(Change("annotation", f"chú thích trên trang {number} bị xóa",
                                  f"an annotation on page {number} was removed", number))
    old_fields, new_fields = _fields(old), _fields(new)
    for name, (field_type, ref, _raw) in new_fields.items():
        if field_type == "/Sig":
            continue
        if name not in old_fields:
            changes.append(Change("form_field", f"thêm trường biểu mẫu “{_label(name)}”",
                                  f"a form field “{_label(name)}” was added"))
        elif ref in touched or ref != old_fields[name][1]:
            changes.append(Change("form_field", f"trường biểu mẫu “{_label(name)}” bị sửa",
                                  f"the form field “{_label(name)}” was changed"))
    for name in set(old_fields) - set(new_fields):
        changes.append(Change("form_field", f"trường biểu mẫu “{_label(name)}” bị xóa",
                              f"the form field “{_label(name)}” was removed"))
    if _info(old) != _info(new):
        changes.append(Change("document_info", "thông tin tài liệu (tiêu đề, tác giả…) bị sửa",
                              "the document information (title, author…) was changed"))
    old_root, new_root = old.root, new.root
    keys = sorted(key for key in (set(old_root) | set(new_root)) - CATALOG_SIGNING_KEYS
                  if key not in old_root or key not in new_root
                  or not _same(old_root.raw_get(key), new_root.raw_get(key))
                  or _depends_on(new, new_root.raw_get(key), touched))
    if keys:
        listed = ", ".join(_label(str(key).lstrip("/")) for key in keys[:5])
        changes.append(Change(
            "document_structure", f"cấu trúc tài liệu bị sửa ({listed}: hành động khi mở, tệp "
            "đính kèm, mục lục…)", f"the document's structure was changed ({listed}: actions "
            "on opening, attachments, outline…)"))
    return changes


def _prepared(old: HistoricalResolver, annotation) -> bool:
    """Whether a signature widget fills a field the stored revision already had."""
    name = str(annotation.get("/T") or annotation.get("/Parent", {}).get("/T", ""))
    return bool(name) and name in _fields(old)


def _info(resolver: HistoricalResolver) -> tuple:
    try:
        info = resolver.trailer_view["/Info"]
    except (KeyError, TypeError):
        return ()
    return tuple(str(info.get(key, "")) for key in INFO_READER_KEYS)


__all__ = ["SIGNATURES_ONLY", "Change", "SignatureReport", "changes_after",
           "first_revision_bytes", "revision_count", "verify_pdf"]
