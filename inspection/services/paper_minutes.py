"""The paper fallback: the scan of a printed, wet-signed and stamped copy of the minutes.

When no one can sign digitally at the meeting, the team prints the revision, everyone signs it
by hand and the unit stamps it; the leader then uploads its scan (one PDF, or JPEG/PNG pages
that are assembled into one PDF here). The scan is checked before anything is stored, as the
rules for scanned e-copies ask (a PDF, colour, at least 200 dpi at 100%): its type by its
content (not by what the request says), its size, that it can be read, its resolution measured
against the A4 page the minutes are printed on, and that it is in colour (the red stamp must
show). It is stored by SHA-256 next to the revision it was printed from; the inspection becomes
signed "on paper". A later scan is a new record beside the first, never a replacement.
"""
from __future__ import annotations

import io
import os
import re
import uuid
import warnings
from dataclasses import dataclass

from flask import current_app
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from ..errors import Conflict, NotFound, ServiceError, TooLarge, ValidationFailed
from ..extensions import db
from ..models import Inspection, InspectionState, MinutesRevision, PaperMinutes, Upload, User
from ..models.base import MAX_ID, utcnow
from . import audit
from .access import can_view, is_trip_leader, require
from .photos import SHA256_HEX, ChecksumMismatch, UploadState, decode_slot, max_pixels, part_path
from .revisions import latest_revision, revisions_of
from .storage import get_storage, sha256_of_file
from .workflow import transition_inspection

DEFAULT_MAX_BYTES = 30 * 1024 * 1024
MAX_PAGES = 60
MIN_DPI = 200
# A scanner or a phone crops a few millimetres of the page's margin: 3 % below 200 dpi on A4
# (1604 instead of 1654 pixels across) is still a 200 dpi scan of the page.
DPI_TOLERANCE = 0.97
A4_INCHES = (210 / 25.4, 297 / 25.4)
A4_POINTS = (595.28, 841.89)
# The largest difference between colour channels of any pixel of a (reduced) scan below which
# it is a grey scan: JPEG noise of a grey page stays well under it, a red stamp is far above.
MIN_CHROMA = 40
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
GREY_SPACES = {"/DeviceGray", "/CalGray"}


class ScanRefused(ServiceError):
    """The scan is not one the minutes can rest on (type, resolution, colour, damage): 422."""

    status = 422
    code = "scan_refused"


@dataclass(frozen=True)
class Scan:
    """A checked scan as it will be stored: one PDF."""

    pdf: bytes
    pages: int
    dpi: float  # the lowest resolution measured on a page (pixels against A4)
    source_type: str  # application/pdf, image/jpeg or image/png


def max_bytes() -> int:
    """The largest scan accepted, in bytes (config MAX_SCAN_BYTES)."""
    return int(current_app.config.get("MAX_SCAN_BYTES", DEFAULT_MAX_BYTES))


def check_length(length: int | None) -> None:
    """Refuse a scan larger than the limit before reading it (413)."""
    limit = max_bytes()
    if length is not None and length > limit:
        raise TooLarge(
            f"Bản quét quá lớn: {length:,} byte (tối đa {limit:,}).".replace(",", "."),
            f"The scan is too large: {length:,} bytes (at most {limit:,}).")


def _refuse(vi: str, en: str) -> ScanRefused:
    return ScanRefused("Không nhận bản quét: " + vi, "The scan is refused: " + en)


def sniff(data: bytes) -> str | None:
    """What the bytes are, by their content: "application/pdf", "image/jpeg", "image/png"."""
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def read_scan(files: list[bytes]) -> Scan:
    """Check a scan sent as one PDF or as JPEG/PNG pages (assembled into one PDF, in order);
    raises ScanRefused / TooLarge with the reason, having stored nothing."""
    files = [f for f in files if f]
    if not files:
        raise ValidationFailed("Hãy gửi bản quét biên bản (PDF, JPEG hoặc PNG).",
                               "Send the scan of the minutes (PDF, JPEG or PNG).",
                               {"file": ["required"]})
    check_length(sum(len(f) for f in files))
    kinds = [sniff(f) for f in files]
    if None in kinds:
        raise _refuse("tệp không phải PDF, JPEG hay PNG (xét theo nội dung tệp).",
                      "the file is not a PDF, JPEG or PNG (judged by its content).")
    if "application/pdf" in kinds:
        if len(files) > 1:
            raise _refuse("hãy gửi một tệp PDF, hoặc các trang ảnh JPEG/PNG, không lẫn cả hai.",
                          "send one PDF, or JPEG/PNG pages, not both.")
        return _check_pdf(files[0])
    if len(files) > MAX_PAGES:
        raise _refuse(f"nhiều hơn {MAX_PAGES} trang.", f"more than {MAX_PAGES} pages.")
    with decode_slot():
        pages = [_check_image(data, number) for number, data in enumerate(files, 1)]
    return Scan(pdf=_assemble(pages), pages=len(pages), dpi=min(p.dpi for p in pages),
                source_type=kinds[0] if len(set(kinds)) == 1 else "image/mixed")


# --- images ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Page:
    data: bytes  # the file as sent, or an upright copy when its EXIF turned it
    width: int
    height: int
    dpi: float


def a4_dpi(width: float, height: float) -> float:
    """The resolution of an image of that many pixels if it shows a whole A4 page."""
    short, long = sorted((width, height))
    return min(short / A4_INCHES[0], long / A4_INCHES[1])


def _page_words(number: int) -> tuple[str, str]:
    return f"trang {number}: ", f"page {number}: "


def _check_image(data: bytes, number: int) -> _Page:
    """One JPEG/PNG page: decodable in full, within the pixel limit, ≥ 200 dpi on A4, colour."""
    vi, en = _page_words(number)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format not in IMAGE_TYPES:
                    raise _refuse(vi + "chỉ nhận ảnh JPEG hoặc PNG.", en + "JPEG or PNG only.")
                width, height = im.size
                if width * height > max_pixels():
                    raise _refuse(vi + f"ảnh quá nhiều điểm ảnh ({width}×{height}).",
                                  en + f"too many pixels ({width}×{height}).")
                if getattr(im, "n_frames", 1) > 1:
                    raise _refuse(vi + "ảnh động.", en + "an animated image.")
                turned = im.getexif().get(0x0112, 1) not in (None, 1)
                im.load()
                upright = ImageOps.exif_transpose(im) if turned else im
                width, height = upright.size
                _require_dpi(a4_dpi(width, height), width, height, vi, en)
                colour = _is_colour(upright)
                if colour and turned:  # a phone's photo, drawn upright (JPEG stays JPEG)
                    out = io.BytesIO()
                    if im.format == "JPEG":
                        upright.convert("RGB").save(out, "JPEG", quality=95, subsampling=0)
                    else:
                        upright.save(out, "PNG")
                    data = out.getvalue()
    except ScanRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(vi + "kích thước khai báo quá lớn.", en + "its declared size is too large."
                      ) from exc
    except UnidentifiedImageError as exc:
        raise _refuse(vi + "không phải ảnh JPEG hay PNG.", en + "not a JPEG or PNG image."
                      ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
            ZeroDivisionError, MemoryError) as exc:
        raise _refuse(vi + "ảnh bị hỏng hoặc không đầy đủ.", en + "the image is damaged or "
                      "incomplete.") from exc
    if not colour:
        raise _refuse(vi + "ảnh đen trắng hoặc xám; hãy quét màu để thấy dấu đỏ và chữ ký.",
                      en + "a black-and-white or grey image; scan in colour so that the red "
                      "stamp and the signatures show.")
    # Only the bytes are kept: pages are decoded one at a time, here and when assembled.
    return _Page(data=data, width=width, height=height, dpi=a4_dpi(width, height))


def _require_dpi(dpi: float, width: int, height: int, vi: str, en: str) -> None:
    if dpi < MIN_DPI * DPI_TOLERANCE:
        need = (round(A4_INCHES[0] * MIN_DPI), round(A4_INCHES[1] * MIN_DPI))
        raise _refuse(
            vi + f"độ phân giải chỉ khoảng {dpi:.0f} dpi trên khổ A4 ({width}×{height} điểm "
            f"ảnh); cần ít nhất {MIN_DPI} dpi (khoảng {need[0]}×{need[1]} điểm ảnh).",
            en + f"its resolution is only about {dpi:.0f} dpi on A4 ({width}×{height} pixels); "
            f"at least {MIN_DPI} dpi is needed (about {need[0]}×{need[1]} pixels).")


def _is_colour(im: Image.Image) -> bool:
    """Whether a reduced copy has a pixel whose channels differ markedly (a colour scan)."""
    if im.mode in ("1", "L", "LA", "I", "I;16", "F"):
        return False
    small = im.convert("RGB")
    small.thumbnail((600, 600))
    red, green, blue = small.split()
    spread = ImageChops.lighter(ImageChops.lighter(ImageChops.difference(red, green),
                                                   ImageChops.difference(green, blue)),
                                ImageChops.difference(red, blue))
    return spread.getextrema()[1] >= MIN_CHROMA


def _assemble(pages: list[_Page]) -> bytes:
    """One PDF, a page per image, each image filling an A4 page (turned to its orientation).
    A JPEG is embedded as it was sent (no new compression; a photo its EXIF turns is encoded
    once more, upright, at quality 95); a PNG losslessly."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pageCompression=1)
    pdf.setTitle("Biên bản kiểm tra ký trên giấy (bản quét)")
    for page in pages:
        size = A4_POINTS if page.height >= page.width else A4_POINTS[::-1]
        pdf.setPageSize(size)
        pdf.drawImage(ImageReader(io.BytesIO(page.data)), 0, 0, width=size[0], height=size[1],
                      preserveAspectRatio=True, anchor="c")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


# --- PDF ------------------------------------------------------------------------------------

def _check_pdf(data: bytes) -> Scan:
    """A scanned PDF: version ≥ 1.4, readable, not encrypted, at most MAX_PAGES pages, each
    carrying a scanned colour image of at least 200 dpi (its largest image's pixels against
    the page, and at least against A4)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    version = re.match(rb"\s*%PDF-(\d)\.(\d)", data[:1024])
    if version is None:
        raise _refuse("tệp PDF hỏng (không có phần đầu PDF).", "a damaged PDF (no PDF header).")
    if (int(version[1]), int(version[2])) < (1, 4):
        raise _refuse(f"PDF phiên bản {version[1].decode()}.{version[2].decode()}; cần PDF 1.4 "
                      "trở lên.", f"PDF version {version[1].decode()}.{version[2].decode()}; "
                      "PDF 1.4 or later is needed.")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise _refuse("tệp PDF có mật khẩu hoặc bị mã hoá.",
                          "the PDF is password-protected or encrypted.")
        pages = list(_pages(reader.root["/Pages"], {}, 0))
    except ScanRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to parse: a damaged file
        raise _refuse("tệp PDF bị hỏng, không đọc được.", "the PDF is damaged and cannot be "
                      "read.") from exc
    if not pages:
        raise _refuse("tệp PDF không có trang nào.", "the PDF has no pages.")
    if len(pages) > MAX_PAGES:
        raise _refuse(f"nhiều hơn {MAX_PAGES} trang.", f"more than {MAX_PAGES} pages.")
    lowest = None
    for number, (box, rotate, resources) in enumerate(pages, 1):
        vi, en = _page_words(number)
        try:
            images = list(_images(resources, 0))
        except Exception as exc:  # noqa: BLE001
            raise _refuse(vi + "tệp PDF bị hỏng.", en + "the PDF is damaged.") from exc
        if not images:
            raise _refuse(vi + "không có ảnh quét (đây không phải bản quét biên bản giấy).",
                          en + "no scanned image (this is not a scan of the paper minutes).")
        width, height, colour = max(images, key=lambda i: i[0] * i[1])
        page_w, page_h = abs(box[2] - box[0]) / 72, abs(box[3] - box[1]) / 72
        if rotate % 180:
            page_w, page_h = page_h, page_w
        if page_w <= 0 or page_h <= 0:
            raise _refuse(vi + "trang không có kích thước.", en + "the page has no size.")
        short_px, long_px = sorted((width, height))
        # Against the page, and at least against A4: a page shrunk below A4 is not a scan at
        # 100 % of the printed minutes.
        short_in, long_in = (max(a, b) for a, b in zip(sorted((page_w, page_h)), A4_INCHES,
                                                       strict=True))
        dpi = min(short_px / short_in, long_px / long_in)
        _require_dpi(dpi, width, height, vi, en)
        if not colour:
            raise _refuse(vi + "ảnh quét đen trắng hoặc xám; hãy quét màu để thấy dấu đỏ và "
                          "chữ ký.", en + "a black-and-white or grey scan; scan in colour so "
                          "that the red stamp and the signatures show.")
        lowest = dpi if lowest is None else min(lowest, dpi)
    return Scan(pdf=data, pages=len(pages), dpi=lowest, source_type="application/pdf")


def _pages(node, inherited: dict, depth: int):
    """(MediaBox, Rotate, Resources) of every page under a page-tree node, in order."""
    if depth > 32:
        raise ValueError("page tree too deep")
    values = dict(inherited)
    for key in ("/MediaBox", "/Rotate", "/Resources"):
        if key in node:
            values[key] = node[key]
    if node.get("/Type") == "/Pages" or "/Kids" in node:
        for kid in node["/Kids"]:
            yield from _pages(kid.get_object(), values, depth + 1)
        return
    box = [float(v) for v in values.get("/MediaBox", [0, 0, *A4_POINTS])]
    yield box, int(values.get("/Rotate", 0)), values.get("/Resources")


def _images(resources, depth: int):
    """(width, height, colour?) of every image a page's resources hold (forms included)."""
    if resources is None or depth > 4:
        return
    resources = resources.get_object() if hasattr(resources, "get_object") else resources
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return
    for _name, ref in xobjects.get_object().items():
        obj = ref.get_object()
        kind = obj.get("/Subtype")
        if kind == "/Image":
            yield int(obj["/Width"]), int(obj["/Height"]), _colour_image(obj)
        elif kind == "/Form":
            yield from _images(obj.get("/Resources"), depth + 1)


def _colour_image(obj) -> bool:
    """Whether an image XObject is in colour, by its colour space (a JPEG 2000 image without
    one carries it inside: taken as colour)."""
    if obj.get("/ImageMask") or int(obj.get("/BitsPerComponent", 8)) == 1:
        return False  # a stencil mask, or one bit a pixel: black and white
    space = obj.get("/ColorSpace")
    return space is None or _colour_space(space.get_object() if hasattr(space, "get_object")
                                          else space)


def _colour_space(space) -> bool:
    if isinstance(space, str):
        return space not in GREY_SPACES and space != "/Separation"
    family = str(space[0])
    if family == "/ICCBased":
        return int(space[1].get_object().get("/N", 3)) >= 3
    if family == "/Indexed":
        base = space[1].get_object() if hasattr(space[1], "get_object") else space[1]
        return _colour_space(base)
    return family not in GREY_SPACES and family != "/Separation"


# --- storing --------------------------------------------------------------------------------

def target_revision(inspection: Inspection, number: int | None) -> MinutesRevision:
    """The revision the paper was printed from: `number`, else the latest built one."""
    if number is None:
        revision = latest_revision(inspection)
        if revision is None:
            raise Conflict("Chưa có biên bản nào được lập: hãy lập biên bản, in, ký và đóng dấu "
                           "rồi mới tải bản quét lên.",
                           "No minutes have been built yet: build them, print, sign and stamp "
                           "them, then upload the scan.")
        return revision
    revision = next((r for r in revisions_of(inspection) if r.revision == number), None)
    if revision is None:
        raise Conflict(f"Không có biên bản lần {number}.",
                       f"There is no revision {number} of the minutes.")
    if revision.is_superseded:
        raise Conflict(f"Biên bản lần {number} đã được thay thế bằng lần lập sau; hãy in và ký "
                       "bản mới nhất.", f"Revision {number} was replaced by a later build; "
                       "print and sign the latest one.")
    return revision


def check_may_upload(inspection: Inspection, user: User, number: int | None) -> MinutesRevision:
    """The leader of an approved (or already signed) inspection, with minutes built: the
    revision the scan belongs to. Checked before the scan is read."""
    require(is_trip_leader(user, inspection.trip),
            "Chỉ trưởng đoàn được tải lên bản quét biên bản đã ký trên giấy.",
            "Only the team leader may upload the scan of the minutes signed on paper.")
    if inspection.state not in (InspectionState.approved, InspectionState.signed):
        raise Conflict("Chỉ tải lên bản quét khi kết quả kiểm tra đã được duyệt.",
                       "A scan is uploaded once the inspection's results are approved.")
    return target_revision(inspection, number)


def accept_paper_scan(inspection: Inspection, user: User, files: list[bytes],
                      number: int | None = None) -> PaperMinutes:
    """Check and store the scan of the paper minutes printed from revision `number` (else the
    latest), as a new record; the approved inspection becomes signed on paper. Flushes."""
    revision = check_may_upload(inspection, user, number)
    scan = read_scan(files)
    return _store(inspection, user, revision, scan)


def _store(inspection: Inspection, user: User, revision: MinutesRevision,
           scan: Scan) -> PaperMinutes:
    sha256 = get_storage().put_bytes(scan.pdf)
    record = PaperMinutes(inspection_id=inspection.id, revision_id=revision.id, sha256=sha256,
                          size=len(scan.pdf), pages=scan.pages, source_type=scan.source_type,
                          dpi=round(scan.dpi, 1), uploaded_by_id=user.id)
    db.session.add(record)
    db.session.flush()
    earlier = [p.sha256 for p in paper_scans_of(inspection) if p.id != record.id]
    audit.record("minutes.paper", record, user, inspection_id=inspection.id,
                 revision=revision.revision, sha256=sha256, pages=scan.pages,
                 dpi=record.dpi, earlier=earlier)
    if inspection.state == InspectionState.approved:
        transition_inspection(inspection, "sign", user, minutes_signed=True, signed_on="paper")
    return record


def paper_scans_of(inspection: Inspection) -> list[PaperMinutes]:
    """Every stored scan of the inspection's paper minutes, oldest first."""
    return db.session.scalars(select(PaperMinutes).where(
        PaperMinutes.inspection_id == inspection.id).order_by(PaperMinutes.id)).all()


def current_scans(inspection: Inspection) -> list[PaperMinutes]:
    """The scans of revisions not superseded (what the minutes pages show as signed on paper)."""
    return [p for p in paper_scans_of(inspection) if not p.revision.is_superseded]


def scans_of_revision(revision: MinutesRevision | None) -> list[PaperMinutes]:
    """The scans of one revision, oldest first."""
    if revision is None:
        return []
    return db.session.scalars(select(PaperMinutes).where(
        PaperMinutes.revision_id == revision.id).order_by(PaperMinutes.id)).all()


def scans_with_sha256(sha256: str | None) -> list[PaperMinutes]:
    """The stored scans whose PDF has this SHA-256 (a file someone holds, checked)."""
    if not sha256:
        return []
    return db.session.scalars(select(PaperMinutes).where(PaperMinutes.sha256 == sha256)
                              .order_by(PaperMinutes.id)).all()


def visible_scan(inspection: Inspection, scan_id: int) -> PaperMinutes:
    """One scan of an inspection the caller may see (checked by the caller); else 404."""
    scan = db.session.get(PaperMinutes, scan_id)
    if scan is None or scan.inspection_id != inspection.id:
        raise NotFound("Không tìm thấy bản quét.", "Scan not found.")
    return scan


def scan_pdf(scan: PaperMinutes) -> bytes:
    """The stored PDF of a scan."""
    with get_storage().open(scan.sha256) as f:
        return f.read()


# --- resumable uploads (tus, metadata kind=minutes-scan) -----------------------------------

UPLOAD_KIND = "minutes-scan"


def create_scan_upload(user: User, length: int | None, meta: dict[str, str]) -> Upload:
    """Start a resumable upload of a scan (tus creation with `kind=minutes-scan`): who may
    upload, the revision and the size are checked before any byte is sent."""
    if length is None or length < 1:
        raise ValidationFailed("Cần tiêu đề Upload-Length (số byte của tệp, lớn hơn 0).",
                               "Upload-Length (the file size in bytes, above 0) is required.",
                               {"Upload-Length": ["required"]})
    check_length(length)
    raw_id = meta.get("inspection_id", "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10 and int(raw_id) <= MAX_ID):
        raise ValidationFailed("Cần inspection_id trong Upload-Metadata.",
                               "inspection_id is required in Upload-Metadata.",
                               {"inspection_id": ["required"]})
    inspection = db.session.get(Inspection, int(raw_id))
    if inspection is None or not can_view(user, inspection):
        raise NotFound("Không tìm thấy cuộc kiểm tra.", "Inspection not found.")
    raw_revision = meta.get("revision", "").strip()
    number = None
    if raw_revision:
        if not (raw_revision.isascii() and raw_revision.isdigit() and len(raw_revision) <= 6):
            raise ValidationFailed("revision phải là số nguyên dương.",
                                   "revision must be a positive integer.",
                                   {"revision": ["a positive integer"]})
        number = int(raw_revision)
    check_may_upload(inspection, user, number)
    sha = meta.get("sha256", "").strip()
    if not SHA256_HEX.match(sha):
        raise ValidationFailed("Cần sha256 (64 chữ số hex) của toàn bộ tệp trong Upload-Metadata.",
                               "sha256 (64 hex digits) of the whole file is required in "
                               "Upload-Metadata.", {"sha256": ["required"]})
    upload = Upload(id=uuid.uuid4(), user_id=user.id, inspection_id=inspection.id, length=length,
                    offset=0, meta={"kind": UPLOAD_KIND, "sha256": sha.lower(),
                                    "revision": number})
    db.session.add(upload)
    db.session.flush()
    part_path(upload).touch()
    return upload


def is_scan_upload(state: UploadState | Upload) -> bool:
    """Whether a tus upload carries a scan of paper minutes (not a photo)."""
    return (state.meta or {}).get("kind") == UPLOAD_KIND


def complete_scan_upload(state: UploadState, user: User) -> PaperMinutes:
    """All bytes of a scan are in: check its SHA-256 (a mismatch restarts the upload at 0), then
    the scan itself (a refusal drops the upload and its bytes), then store it as
    `accept_paper_scan` does. Flushes; the caller commits."""
    path = part_path(state)
    if sha256_of_file(path) != state.meta.get("sha256"):
        _unlink(path)
        path.touch()
        db.session.execute(update(Upload).where(Upload.id == state.id).values(offset=0)
                           .execution_options(synchronize_session=False))
        state.offset = 0
        raise ChecksumMismatch(
            "Bản quét nhận được không khớp mã SHA-256 đã khai báo; hãy gửi lại.",
            "The received scan does not match its declared SHA-256; send it again.")
    inspection = db.session.get(Inspection, state.inspection_id)
    try:
        revision = check_may_upload(inspection, user, state.meta.get("revision"))
        scan = read_scan([path.read_bytes()])
    except ServiceError:
        _unlink(path)
        db.session.execute(Upload.__table__.delete().where(Upload.__table__.c.id == state.id))
        raise
    record = _store(inspection, user, revision, scan)
    _unlink(path)
    db.session.execute(update(Upload).where(Upload.id == state.id).values(
        offset=state.length, completed_at=utcnow(), meta={**state.meta, "paper_id": record.id})
        .execution_options(synchronize_session=False))
    state.offset, state.completed = state.length, True
    state.meta = {**state.meta, "paper_id": record.id}
    return record


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
