"""PAdES signatures on the minutes: sign bytes → bytes, with a visible stamp.

`sign_pdf` adds one PAdES baseline signature (pyHanko, SHA-256, `/ETSI.CAdES.detached`) as an
incremental update, so earlier signatures stay valid (leader first, unit representatives
after). Each signature gets a visible stamp ("Ký bởi", "Chức vụ", "Thời gian") in the empty
signature field the renderer placed in the printed signature block, or, for a PDF that has no
such field, in a new field on the last page (leader right, others left).

The other concerns live next door: `verification` (bytes → reports, and what changed after
the stored revision), `demo_pki` (the demo CA and keys), `stamp_font` (the stamp's font),
`certinfo` (certificate facts).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields as sig_fields
from pyhanko.sign import signers, timestamps
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from ..localtime import VIETNAM_TZ
from ..pdf.data import LEADER_FIELD
from ..pdf.minutes import FONT, register_fonts
from .certinfo import certificate_sha256, name_attr
from .stamp_font import stamp_font_engine

log = logging.getLogger(__name__)

VN_TZ = VIETNAM_TZ
STAMP_FONT_SIZE = 9
STAMP_LEADING = 12  # an int: pyHanko's layout does exact fractions
STAMP_PADDING = 5
STAMP_COLOR = (0.05, 0.2, 0.55)  # blue, as signatures are on paper
MM = 72 / 25.4
DEFAULT_STAMP_SIZE = (74 * MM, 27 * MM)


class SigningError(Exception):
    """Signing failed (unreadable PDF, a field already signed, bad key…); message in Vietnamese
    then English."""


def outside_event_loop(function, /, *args, **kwargs):
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


@dataclass(frozen=True)
class SignerKey:
    """A person's signing key and certificate (from a PKCS#12 file or a token)."""

    signer: signers.Signer

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The signer's certificate."""
        return self.signer.signing_cert

    @property
    def common_name(self) -> str:
        """The certificate's common name: the person's name."""
        return name_attr(self.certificate, "common_name")

    @property
    def title(self) -> str:
        """The certificate's TITLE attribute (chức vụ), "" when absent."""
        return name_attr(self.certificate, "title")

    @property
    def fingerprint(self) -> str:
        """Hex SHA-256 of the certificate (what the accounts' registered certificates hold)."""
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


def clean_line(text: str) -> str:
    """One line of text fit for a stamp or a report: NFC, without control characters."""
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
    text = _stamp_lines(clean_line(signer.common_name) or "—", clean_line(signer.title),
                        clean_line(role_label), when, width)
    font = stamp_font_engine(font_cache_dir, STAMP_FONT_SIZE)
    style = TextStampStyle(
        stamp_text="%(lines)s",
        border_width=1,
        border_color=STAMP_COLOR,
        text_box_style=TextBoxStyle(font=font, font_size=STAMP_FONT_SIZE, leading=STAMP_LEADING,
                                    text_color=STAMP_COLOR),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=sig_fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=clean_line(reason) or None, location=clean_line(location) or None,
        name=clean_line(signer.common_name) or None)
    try:
        if new_field is not None:
            sig_fields.append_signature_field(writer, new_field)
        pdf_signer = signers.PdfSigner(meta, signer=signer.signer, timestamper=timestamper,
                                       stamp_style=style)
        out = outside_event_loop(pdf_signer.sign_pdf, writer,
                                  appearance_text_params={"lines": text})
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SigningError(f"Không ký được tệp PDF / signing failed: {exc}") from exc
    return out.getvalue()


__all__ = ["SignerKey", "SigningError", "clean_line", "load_pkcs12", "outside_event_loop",
           "sign_pdf"]
