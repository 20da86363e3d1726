"""PAdES signatures on the minutes: sign bytes → bytes, verify bytes → reports; a demo PKI.

- `sign_pdf` adds one PAdES baseline signature (pyHanko, SHA-256, `/ETSI.CAdES.detached`) as an
  incremental update, so earlier signatures stay valid (leader first, unit representative
  second). Each signature gets a visible stamp ("Ký bởi", "Chức vụ", "Thời gian") in the
  empty signature field the renderer placed in the printed signature block, or, for a PDF
  that has no such field, in a new field on the last page (leader right, others left).
- `verify_pdf` reports every signature (signer, title, time, intact, valid, trusted, whether
  it covers the whole file, certificate fingerprint) and never raises: a broken, truncated,
  tampered or non-PDF input gives a report that says invalid.
- `check_signed_upload` accepts a PDF signed elsewhere (an official's own USB token) only if it
  is an incremental update whose first revision is byte-identical to the stored final PDF and
  every signature in it is intact and valid.
- `ensure_demo_pki` makes a local test CA ("CCHC Demo CA"), a timestamping key for B-T
  signatures with pyHanko's DummyTimeStamper, and PKCS#12 files per person (demo mode only).

pyHanko's text stamps write glyph widths in raw font units, which garbles any TrueType font
whose unitsPerEm is not 1000 (Liberation Serif has 2048): `stamp_font_path` makes, at first
use, a copy rescaled to 1000 units per em in a cache folder, renamed "CCHC Stamp Serif" since
"Liberation" is a Reserved Font Name of the OFL.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# fontTools reports every table it does not subset ("FFTM NOT subset") on each stamp, and
# pyHanko logs a full traceback for every certificate it cannot chain to a trusted root (an
# official's own certificate, which verify_pdf reports as "not trusted" anyway).
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder  # noqa: E402
from pyhanko.pdf_utils.font.opentype import (  # noqa: E402
    GlyphAccumulator,
    GlyphAccumulatorFactory,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.pdf_utils.text import TextBoxStyle  # noqa: E402
from pyhanko.sign import fields as sig_fields  # noqa: E402
from pyhanko.sign import signers, timestamps  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko.stamp import TextStampStyle  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402
from pyhanko_certvalidator.util import get_pyca_cryptography_hash  # noqa: E402

from ..pdf.data import LEADER_FIELD  # noqa: E402
from ..pdf.minutes import FONT, FONT_DIR, register_fonts  # noqa: E402

log = logging.getLogger(__name__)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STAMP_FONT_FAMILY = "CCHC Stamp Serif"
STAMP_FONT_SIZE = 9
STAMP_LEADING = 12  # an int: pyHanko's layout does exact fractions
STAMP_PADDING = 5
STAMP_COLOR = (0.05, 0.2, 0.55)  # blue, as signatures are on paper
MM = 72 / 25.4
DEFAULT_STAMP_SIZE = (74 * MM, 27 * MM)


class SigningError(Exception):
    """Signing failed (unreadable PDF, a field already signed, bad key…); message in Vietnamese
    then English."""


def _outside_event_loop(function, /, *args, **kwargs):
    """Call `function` (which uses asyncio.run, as pyHanko's sync API does) even when this
    thread already runs an event loop (an async server, Playwright's sync API): then it runs
    in a worker thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


# --- keys -----------------------------------------------------------------------------------

def _name_attr(cert: asn1_x509.Certificate, key: str) -> str:
    try:
        value = cert.subject.native.get(key, "")
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return unicodedata.normalize("NFC", str(value or ""))


def certificate_sha256(cert: asn1_x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's DER encoding (its fingerprint)."""
    return hashlib.sha256(cert.dump()).hexdigest()


class _ParsedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that parses its RSA key once.

    pyHanko's SimpleSigner parses (and so fully re-validates) the private key on every raw
    signature, about 60 ms for RSA-2048, twice per PDF signature (size estimate, then the real
    one). The key was validated when the PKCS#12 file was loaded.
    """

    _parsed_key = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        if self._parsed_key is None:
            self._parsed_key = serialization.load_der_private_key(
                self.signing_key.dump(), password=None, unsafe_skip_rsa_key_validation=True)
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = mechanism["algorithm"].native
        if algorithm == "rsassa_pkcs1v15" and isinstance(self._parsed_key, rsa.RSAPrivateKey):
            return self._parsed_key.sign(data, PKCS1v15(),
                                         get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


class _DemoTimeStamper(timestamps.DummyTimeStamper):
    """pyHanko's DummyTimeStamper with its RSA key parsed once (same reason as above)."""

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


@dataclass(frozen=True)
class SignerKey:
    """A person's signing key and certificate (from a PKCS#12 file or a token)."""

    signer: signers.Signer

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self.signer.signing_cert

    @property
    def common_name(self) -> str:
        return _name_attr(self.certificate, "common_name")

    @property
    def title(self) -> str:
        """The certificate's TITLE attribute (chức vụ), "" when absent."""
        return _name_attr(self.certificate, "title")

    @property
    def fingerprint(self) -> str:
        return certificate_sha256(self.certificate)


def _passphrase(passphrase: bytes | str | None) -> bytes | None:
    if passphrase is None or isinstance(passphrase, bytes):
        return passphrase
    return passphrase.encode("utf-8")


def load_pkcs12(path_or_bytes: str | os.PathLike | bytes, passphrase: bytes | str | None,
                other_certs: Iterable[asn1_x509.Certificate] = ()) -> SignerKey:
    """A SignerKey from a PKCS#12 (.p12/.pfx) file or its bytes; raises SigningError."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    try:
        loaded = signers.SimpleSigner.load_pkcs12_data(data, list(other_certs),
                                                       passphrase=_passphrase(passphrase))
    except ValueError as exc:
        raise SigningError("Không đọc được tệp khóa PKCS#12 (sai mật khẩu hoặc tệp hỏng) / "
                           "cannot read the PKCS#12 file (wrong passphrase or damaged)") from exc
    signer = _ParsedKeySigner(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                              cert_registry=loaded.cert_registry)
    return SignerKey(signer)


# --- the stamp font ------------------------------------------------------------------------

_font_lock = threading.Lock()
STAMP_FONT_UNICODES = [
    *range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00),
    *range(0x2000, 0x2070), 0x20AB, 0x20AC, 0x2116, 0x2122, 0x2190, 0x2192, 0x2212,
]


def default_cache_dir() -> Path:
    """Where generated files go when no folder is given: $INSPECTION_CACHE_DIR, else a
    per-user folder in the system temp directory."""
    configured = os.environ.get("INSPECTION_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"inspection-cache-{os.getuid()}"


def stamp_font_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The stamp font: Liberation Serif Regular rescaled to 1000 units per em and renamed,
    generated once into `cache_dir` (atomically, safe with several workers)."""
    source = FONT_DIR / "LiberationSerif-Regular.ttf"
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    target = folder / f"CCHCStampSerif-1000upm-v2-{digest}.ttf"
    if target.exists():
        return target
    with _font_lock:
        if target.exists():
            return target
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

        from fontTools import subset

        folder.mkdir(parents=True, exist_ok=True)
        font = TTFont(str(source))
        # Keep Latin and Vietnamese only: pyHanko subsets the font again on every stamp, and a
        # small font makes that ten times faster.
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=STAMP_FONT_UNICODES)
        subsetter.subset(font)
        scale_upem(font, 1000)
        _rename_font(font)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".ttf.tmp")
        os.close(fd)
        try:
            font.save(tmp)
            os.chmod(tmp, 0o644)  # readable by the web server and the CLI alike
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return target


def _rename_font(font) -> None:
    """Give the modified font its own names (OFL: a Reserved Font Name may not be used)."""
    names = {
        1: STAMP_FONT_FAMILY,
        3: f"{STAMP_FONT_FAMILY} Regular; rescaled from Liberation Serif 2.1.5",
        4: STAMP_FONT_FAMILY,
        6: STAMP_FONT_FAMILY.replace(" ", "") + "-Regular",
        16: STAMP_FONT_FAMILY,
        17: "Regular",
        21: STAMP_FONT_FAMILY,
        22: "Regular",
    }
    table = font["name"]
    table.names = [record for record in table.names if record.nameID not in names]
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)  # Windows, Unicode BMP, en-US
        table.setName(text, name_id, 1, 0, 0)  # Macintosh, Roman, English
    if "CFF " in font:  # not the case for Liberation; kept for other fonts
        font["CFF "].cff.fontNames = [names[6]]


@functools.lru_cache(maxsize=4)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


class _InMemoryGlyphAccumulatorFactory(GlyphAccumulatorFactory):
    """pyHanko's factory opens the font file and never closes it (a ResourceWarning per stamp);
    this one reads the font once and hands pyHanko an in-memory copy."""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer, font_handle=io.BytesIO(_font_bytes(self.font_file)),
            font_size=self.font_size, ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag, writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code, obj_stream=obj_stream)


# --- signing --------------------------------------------------------------------------------

def _stamp_lines(name: str, title: str, role_label: str, when: dt.datetime, width: float) -> str:
    from reportlab.lib.utils import simpleSplit

    register_fonts()
    offset = when.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    lines = [f"Ký bởi: {name}"]
    title, role_label = title.strip(), role_label.strip()
    if title:
        lines.append(f"Chức vụ: {title}")
        if role_label and role_label.casefold() != title.casefold():
            lines.append(f"Vai trò: {role_label}")
    elif role_label:
        lines.append(f"Chức vụ: {role_label}")
    lines.append(f"Thời gian: {when:%d/%m/%Y %H:%M:%S} {offset}".strip())
    wrapped = []
    for line in lines:
        wrapped += simpleSplit(line, FONT, STAMP_FONT_SIZE, width) or [""]
    return "\n".join(wrapped)


def _clean_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()


def _sig_field_box(writer: IncrementalPdfFileWriter, field_name: str):
    """(exists, filled, box) of a signature field with that name in the document."""
    for name, value, ref in sig_fields.enumerate_sig_fields(writer.prev, filled_status=None):
        if name == field_name:
            obj = ref.get_object()
            rect = obj.get("/Rect")
            if rect is None and "/Kids" in obj:
                rect = obj["/Kids"][0].get_object().get("/Rect")
            box = tuple(float(v) for v in rect) if rect is not None else None
            return True, value is not None, box
    return False, False, None


def _default_box(writer: IncrementalPdfFileWriter, page_index: int, field_name: str):
    """A stamp box on the page for a field the document did not prepare: the leader's on the
    right half, every other one on the left, near the bottom."""
    try:
        page_ref, _resources = writer.find_page_for_modification(page_index)
        media = [float(v) for v in page_ref.get_object()["/MediaBox"]]
    except Exception:  # noqa: BLE001 - inherited or missing MediaBox: assume A4
        media = [0, 0, 595.28, 841.89]
    width = media[2] - media[0]
    margin_left, margin_right = 30 * MM, 15 * MM
    column = (width - margin_left - margin_right) / 2
    stamp_w, stamp_h = DEFAULT_STAMP_SIZE
    x0 = media[0] + margin_left + (column - stamp_w) / 2
    if field_name.startswith(LEADER_FIELD):
        x0 += column
    y0 = media[1] + 30 * MM
    return (x0, y0, x0 + stamp_w, y0 + stamp_h)


def sign_pdf(pdf: bytes, signer: SignerKey, role_label: str, field_name: str, location: str,
             reason: str, *, timestamper: timestamps.TimeStamper | None = None,
             font_cache_dir: str | os.PathLike | None = None,
             signing_time: dt.datetime | None = None) -> bytes:
    """The PDF with one more PAdES signature, as an incremental update.

    The stamp goes into the empty signature field `field_name` when the document has one (the
    minutes prepare `SigLeader` and `SigUnit1`… inside the printed signature blocks); otherwise
    a new field is made on the last page. `timestamper` (e.g. `DemoPKI.timestamper()` or an
    `HTTPTimeStamper`) makes it a B-T signature. `signing_time` only sets the time printed in
    the stamp (default: now, in Vietnam time). Raises SigningError.
    """
    if not field_name or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", field_name):
        raise SigningError(f"Tên trường chữ ký không hợp lệ / invalid signature field name "
                           f"{field_name!r}")
    when = (signing_time or dt.datetime.now(VN_TZ)).astimezone(VN_TZ).replace(microsecond=0)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        exists, filled, box = _sig_field_box(writer, field_name)
    except Exception as exc:  # noqa: BLE001 - any parse failure of the input
        raise SigningError("Tệp PDF không đọc được / the PDF cannot be read") from exc
    if filled:
        raise SigningError(f"Trường chữ ký {field_name} đã được ký / field {field_name} is "
                           "already signed")
    new_field = None
    if not exists:
        try:
            last = int(writer.root["/Pages"]["/Count"]) - 1
        except Exception as exc:  # noqa: BLE001
            raise SigningError("Tệp PDF không có trang / the PDF has no pages") from exc
        box = _default_box(writer, last, field_name)
        new_field = sig_fields.SigFieldSpec(field_name, on_page=last, box=box)
    width = abs(box[2] - box[0]) - 2 * STAMP_PADDING if box else DEFAULT_STAMP_SIZE[0]
    text = _stamp_lines(_clean_line(signer.common_name) or "—", _clean_line(signer.title),
                        _clean_line(role_label), when, width)
    font = _InMemoryGlyphAccumulatorFactory(str(stamp_font_path(font_cache_dir)),
                                            font_size=STAMP_FONT_SIZE)
    style = TextStampStyle(
        stamp_text="%(lines)s",
        border_width=1,
        border_color=STAMP_COLOR,
        text_box_style=TextBoxStyle(font=font, font_size=STAMP_FONT_SIZE, leading=STAMP_LEADING,
                                    text_color=STAMP_COLOR),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=sig_fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=_clean_line(reason) or None, location=_clean_line(location) or None,
        name=_clean_line(signer.common_name) or None)
    try:
        if new_field is not None:
            sig_fields.append_signature_field(writer, new_field)
        pdf_signer = signers.PdfSigner(meta, signer=signer.signer, timestamper=timestamper,
                                       stamp_style=style)
        out = _outside_event_loop(pdf_signer.sign_pdf, writer,
                                  appearance_text_params={"lines": text})
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SigningError(f"Không ký được tệp PDF / signing failed: {exc}") from exc
    return out.getvalue()


# --- verification ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureReport:
    """What a verifier says about one signature (or about a file that could not be read)."""

    field_name: str | None
    signer: str = ""  # common name of the certificate
    title: str = ""  # certificate TITLE attribute (chức vụ)
    organization: str = ""
    signing_time: dt.datetime | None = None  # from the timestamp token when there is one
    timestamped: bool = False
    intact: bool = False  # the signed bytes are unchanged
    valid: bool = False  # the cryptographic signature checks out
    trusted: bool = False  # the certificate chains to a trusted root
    bottom_line: bool = False  # pyHanko's overall verdict (includes modification checks)
    covers_whole_document: bool = False  # coverage ENTIRE_FILE: nothing was added after it
    coverage: str = ""
    modification_level: str = ""
    modifications_ok: bool = False  # changes after the signature are allowed ones (signatures)
    certificate_sha256: str = ""
    reason: str = ""
    location: str = ""
    error: str | None = None  # why the file or this signature could not be checked

    @property
    def ok(self) -> bool:
        """Intact, valid and trusted, with no disallowed change after it."""
        return self.intact and self.valid and self.trusted and self.bottom_line

    @classmethod
    def broken(cls, error: str, field_name: str | None = None) -> SignatureReport:
        return cls(field_name=field_name, error=error)


def _as_asn1(cert: Any) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, bytes | bytearray):
        data = bytes(cert)
        if data.lstrip().startswith(b"-----BEGIN"):
            data = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
        return asn1_x509.Certificate.load(data)
    if isinstance(cert, str | os.PathLike):
        return load_cert_from_pemder(str(cert))
    raise TypeError(f"not a certificate: {type(cert).__name__}")


def _enum_name(value: Any) -> str:
    return getattr(value, "name", "") or ("" if value is None else str(value))


def verify_pdf(pdf: bytes, trust_roots: Iterable[Any] = ()) -> list[SignatureReport]:
    """One report per signature, oldest first; [] for a readable PDF without signatures.

    Never raises on bad input: an unreadable, truncated or non-PDF file gives one report with
    `error` set and every check False; a signature that cannot be checked gives a report with
    its error. Trust roots may be asn1crypto or cryptography certificates, DER/PEM bytes or
    paths.
    """
    try:
        roots = [_as_asn1(c) for c in trust_roots]
    except Exception as exc:  # noqa: BLE001
        return [SignatureReport.broken(f"invalid trust root: {exc}")]
    if not isinstance(pdf, bytes | bytearray) or not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        return [SignatureReport.broken("not a PDF file")]
    try:
        reader = PdfFileReader(io.BytesIO(bytes(pdf)), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - pyHanko raises KeyError, PdfReadError, …
        return [SignatureReport.broken(f"unreadable PDF: {type(exc).__name__}: {exc}")]
    reports = []
    for sig in embedded:
        reports.append(_report(sig, roots))
    return reports


def _report(sig, roots: list[asn1_x509.Certificate]) -> SignatureReport:
    name = getattr(sig, "field_name", None)
    info: dict[str, Any] = {"field_name": name}
    try:
        cert = sig.signer_cert
        info.update(signer=_name_attr(cert, "common_name"), title=_name_attr(cert, "title"),
                    organization=_name_attr(cert, "organization_name"),
                    certificate_sha256=certificate_sha256(cert))
    except Exception as exc:  # noqa: BLE001
        return SignatureReport.broken(f"unreadable signature: {type(exc).__name__}: {exc}", name)
    try:
        sig_obj = sig.sig_object
        info["reason"] = _clean_line(str(sig_obj.get("/Reason", "")))
        info["location"] = _clean_line(str(sig_obj.get("/Location", "")))
    except Exception:  # noqa: BLE001
        pass
    try:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = _outside_event_loop(validate_pdf_signature, sig,
                                     signer_validation_context=context,
                                     ts_validation_context=context)
    except Exception as exc:  # noqa: BLE001 - tampered structures can make pyHanko raise
        return SignatureReport(**info, error=f"{type(exc).__name__}: {exc}")
    ts = status.timestamp_validity
    when = ts.timestamp if ts is not None else status.signer_reported_dt
    coverage = _enum_name(status.coverage)
    return SignatureReport(
        **info, signing_time=when, timestamped=ts is not None,
        intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
        bottom_line=bool(status.bottom_line), covers_whole_document=coverage == "ENTIRE_FILE",
        coverage=coverage, modification_level=_enum_name(status.modification_level),
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


@dataclass(frozen=True)
class UploadCheck:
    """Whether a PDF signed elsewhere may replace the stored final PDF."""

    accepted: bool
    reasons: tuple[str, ...] = ()  # why it was refused, "tiếng Việt / English"
    signatures: tuple[SignatureReport, ...] = field(default=())


def check_signed_upload(signed: bytes, final_pdf: bytes, trust_roots: Iterable[Any] = (), *,
                        require_trusted: bool = False) -> UploadCheck:
    """Accept a PDF signed with the person's own token only if its first revision is exactly
    the stored final PDF, it carries at least one new signature, every signature is intact and
    valid with no disallowed change, and the last one covers the whole file.

    Trust is reported and, with `require_trusted`, required (officials' certificates come from
    CAs the server may not know).
    """
    reasons = []
    reports = tuple(verify_pdf(signed, trust_roots))
    try:
        first = first_revision_bytes(signed)
    except ValueError:
        first = None
    same = first is not None and (
        first == final_pdf
        or (signed.startswith(final_pdf) and first.rstrip(b"\r\n") == final_pdf.rstrip(b"\r\n")))
    if not same:
        reasons.append("Phiên bản đầu của tệp đã ký không trùng khớp với biên bản gốc / the "
                       "signed file is not an incremental update of the stored final PDF")
    if any(r.error for r in reports) or not reports:
        reasons.append("Không có chữ ký số đọc được / no readable signature")
    else:
        if len(signed) <= len(final_pdf):
            reasons.append("Tệp không có chữ ký mới / nothing was added to the final PDF")
        for r in reports:
            if not (r.intact and r.valid):
                reasons.append(f"Chữ ký {r.field_name} bị hỏng hoặc tài liệu đã bị sửa / "
                               f"signature {r.field_name} is broken or the document was altered")
            elif not r.modifications_ok:
                reasons.append(f"Tài liệu bị thay đổi sau chữ ký {r.field_name} / the document "
                               f"was changed after signature {r.field_name}")
            if require_trusted and not r.trusted:
                reasons.append(f"Chứng thư của {r.signer} không được tin cậy / the certificate "
                               f"of {r.signer} is not trusted")
        if not reports[-1].covers_whole_document:
            reasons.append("Chữ ký cuối không bao trùm toàn bộ tệp / the last signature does not "
                           "cover the whole file")
    return UploadCheck(not reasons, tuple(reasons), reports)


# --- demo PKI ----------------------------------------------------------------------------------

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
        return self.directory / "ca.cert.pem"

    @property
    def ca_cert(self) -> asn1_x509.Certificate:
        return load_cert_from_pemder(str(self.ca_cert_path))

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        return [self.ca_cert]

    def timestamper(self) -> timestamps.DummyTimeStamper:
        """An in-process timestamp authority (B-T signatures without a network); one per
        folder and process, so its dummy response for size estimates is computed once."""
        return _demo_timestamper(str(self.directory), self.ca_cert_path.stat().st_mtime_ns)

    def p12_path(self, username: str) -> Path:
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
            cert = (_builder(x509.Name(attrs), ca_cert.subject, key.public_key(),
                             now - dt.timedelta(days=1), now + dt.timedelta(days=5 * 365))
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                    .add_extension(_key_usage(digital_signature=True, content_commitment=True),
                                   True)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                        ca_cert.public_key()), False)
                    .sign(ca_key, hashes.SHA256()))
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
    return _DemoTimeStamper(
        tsa_cert=load_cert_from_pemder(str(folder / "tsa.cert.pem")),
        tsa_key=load_private_key_from_pemder(str(folder / "tsa.key.pem"), passphrase=None),
        certs_to_embed=[load_cert_from_pemder(str(folder / "ca.cert.pem"))])


def ensure_demo_pki(directory: str | os.PathLike) -> DemoPKI:
    """Create (once) the demo CA, TSA and the demo accounts' PKCS#12 files in `directory`."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    pki = DemoPKI(folder)
    if not (pki.ca_cert_path.exists() and (folder / "tsa.cert.pem").exists()):
        with _directory_lock(folder):
            if not pki.ca_cert_path.exists():
                _make_ca(folder)
            if not (folder / "tsa.cert.pem").exists():
                _make_tsa(folder)
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


__all__ = [
    "DemoPKI", "SignatureReport", "SignerKey", "SigningError", "UploadCheck",
    "check_signed_upload", "ensure_demo_pki", "first_revision_bytes", "load_pkcs12",
    "sign_pdf", "stamp_font_path", "verify_pdf",
]
