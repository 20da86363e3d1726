"""Photos as evidence: resumable (tus 1.0) uploads, the checks on completion, thumbnails.

An upload collects its bytes in ``MEDIA_ROOT/uploads/<id>.part``, chunk by chunk straight from
the request stream (never the whole file in memory). The database row (Upload) holds the offset
the server has confirmed; bytes in the part file beyond it (a chunk cut mid-way) are discarded
when the next chunk arrives, so the device resumes exactly where HEAD says. When the last byte
arrives the whole file must match the SHA-256 the device declared, and must be a real image
within limits (bytes, pixels, no decompression bomb); then the original bytes are stored
unchanged in the content-addressed store, a thumbnail is cached by the same digest, and the Photo
row is created — once per client UUID, however often the device uploads it.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import io
import math
import os
import re
import unicodedata
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from flask import current_app
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ClientDisconnected

from ..errors import (
    ChecksumMismatch,
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooLarge,
    ValidationFailed,
)
from ..extensions import db
from ..models import Inspection, Photo, Upload, User
from ..models.base import MAX_ID, VIETNAM, utcnow
from . import audit
from .access import can_edit, can_view
from .feed import log_change
from .observations import item_for
from .score_snapshots import refresh_scores
from .storage import StorageError, get_storage, sha256_of_file
from .sync import photo_data
from .text import bad_character

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
THUMB_SIDE = 480
THUMB_SUFFIX = f"-thumb{THUMB_SIDE}.jpg"
READ_CHUNK = 64 * 1024
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
METADATA_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
CAPTION_LIMIT = Photo.CAPTION_LIMIT


def max_bytes() -> int:
    """The largest photo accepted, in bytes (config MAX_PHOTO_BYTES)."""
    return int(current_app.config.get("MAX_PHOTO_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    """The most pixels a photo may have (config MAX_PHOTO_PIXELS)."""
    return int(current_app.config.get("MAX_PHOTO_PIXELS", DEFAULT_MAX_PIXELS))


# ---------------------------------------------------------------------------------------------
# Errors (the API maps them to 4xx through ServiceError)


UploadTooLarge = TooLarge  # the shared kinds (errors.py); photos' names kept for their callers


class OffsetMismatch(ServiceError):
    status = 409
    code = "offset_mismatch"


class UploadBusy(ServiceError):
    """Another request is writing this upload right now."""

    status = 423
    code = "upload_busy"


class InvalidImage(ServiceError):
    status = 422
    code = "invalid_image"


class FileMissing(NotFound):
    """The database knows the photo but the store has lost its file (e.g. a partial restore)."""

    code = "file_missing"


# ---------------------------------------------------------------------------------------------
# Creating an upload


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode tus ``Upload-Metadata``: comma-separated ``key base64value`` pairs."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        parts = pair.split(" ")
        key = parts[0]
        if len(parts) > 2 or not METADATA_KEY.match(key) or key in found:
            raise ValidationFailed(f"Upload-Metadata không hợp lệ ở khoá '{key[:64]}'.",
                                   f"Upload-Metadata is not valid at key '{key[:64]}'.")
        try:
            value = base64.b64decode(parts[1],
                                     validate=True).decode("utf-8") if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed(
                f"Giá trị của '{key}' trong Upload-Metadata không phải base64 của văn bản UTF-8.",
                f"The value of '{key}' in Upload-Metadata is not base64 of UTF-8 text.") from exc
        found[key] = value
    return found


def _clean_metadata(meta: dict[str, str], inspection: Inspection | None) -> tuple[dict, dict]:
    """Check the metadata of a new upload; returns (cleaned, errors per key)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for key, value in meta.items():
        if (bad := bad_character(value)) is not None:
            errors[key] = [f"Ký tự không hợp lệ U+{ord(bad):04X} / invalid character "
                           f"U+{ord(bad):04X}"]
    if errors:
        return cleaned, errors
    try:
        cleaned["client_uuid"] = str(uuid.UUID(meta.get("client_uuid", "")))
    except ValueError:
        errors["client_uuid"] = ["Cần client_uuid là một UUID."]
    sha = meta.get("sha256", "").strip()
    if not SHA256_HEX.match(sha):
        errors["sha256"] = ["Cần sha256 (64 chữ số hex) của toàn bộ tệp."]
    cleaned["sha256"] = sha.lower()
    item_code = meta.get("item_code", "").strip() or None
    if item_code is not None and inspection is not None and item_for(inspection, item_code) is None:
        errors["item_code"] = [f"Không có tiêu chí '{item_code[:40]}' trong "
                               f"danh mục của cuộc kiểm tra."]
    cleaned["item_code"] = item_code
    for key, limit in (("filename", 255), ("content_type", 100), ("caption", CAPTION_LIMIT)):
        value = unicodedata.normalize("NFC", meta.get(key, "").strip())
        if len(value) > limit:
            errors[key] = [f"Dài quá {limit} ký tự."]
        cleaned[key] = value
    captured = meta.get("captured_at", "").strip()
    cleaned["captured_at"] = None
    if captured:
        try:
            moment = datetime.fromisoformat(captured)
            if moment.tzinfo is None:  # a device clock without a zone: Vietnam time
                moment = moment.replace(tzinfo=VIETNAM)
            cleaned["captured_at"] = moment.astimezone(UTC).isoformat()
        except ValueError:
            errors["captured_at"] = ["Thời điểm chụp không hợp lệ (ISO 8601)."]
    for key, bound in (("latitude", 90), ("longitude", 180)):
        raw = meta.get(key, "").strip()
        cleaned[key] = None
        if raw:
            try:
                number = float(raw)
                if not math.isfinite(number) or abs(number) > bound:
                    raise ValueError
                cleaned[key] = number
            except ValueError:
                errors[key] = [f"Toạ độ không hợp lệ (−{bound}…{bound})."]
    return cleaned, errors


def create_upload(user: User, length: int | None,
                  meta: dict[str, str]) -> tuple[Upload, Photo | None]:
    """Start an upload for the user (tus creation). Returns (upload, photo): when a photo with
    this client UUID exists already, the upload is a completed one pointing at it, so a device
    that lost an earlier answer can finish without sending the bytes again."""
    limit = max_bytes()
    if length is None or length < 1:
        raise ValidationFailed("Cần tiêu đề Upload-Length (số byte của tệp, lớn hơn 0).",
                               "Upload-Length (the file size in bytes, above 0) is required.",
                               {"Upload-Length": ["required"]})
    if length > limit:
        raise UploadTooLarge(f"Ảnh quá lớn: {length:,} byte (tối đa {limit:,}).".replace(",", "."),
                             f"The photo is too large: {length:,} bytes (at most {limit:,}).")
    raw_id = meta.get("inspection_id", "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10 and int(raw_id) <= MAX_ID):
        raise ValidationFailed("Cần inspection_id trong Upload-Metadata.",
                               "inspection_id is required in Upload-Metadata.",
                               {"inspection_id": ["required"]})
    inspection = db.session.get(Inspection, int(raw_id))
    if inspection is None or not can_view(user, inspection):
        raise NotFound("Không tìm thấy cuộc kiểm tra.", "Inspection not found.")
    if not can_edit(user, inspection):
        raise PermissionDenied("Chỉ thành viên đoàn kiểm tra mới được gửi ảnh.",
                               "Only members of the inspection team may upload photos.")
    cleaned, errors = _clean_metadata(meta, inspection)
    if errors:
        raise ValidationFailed("Thông tin kèm ảnh (Upload-Metadata) không hợp lệ.",
                               "The photo's metadata (Upload-Metadata) is not valid.", errors)
    client_uuid = uuid.UUID(cleaned["client_uuid"])
    existing = db.session.scalar(select(Photo).where(Photo.client_uuid == client_uuid))
    if existing is not None:
        if existing.inspection_id != inspection.id or existing.sha256 != cleaned["sha256"]:
            raise Conflict("Mã ảnh (client_uuid) này đã được dùng cho một ảnh khác.",
                           "This client_uuid is already used by another photo.")
        upload = db.session.scalar(select(Upload).where(Upload.photo_id == existing.id,
                                                        Upload.user_id == user.id))
        if upload is None:
            upload = Upload(user_id=user.id, inspection_id=inspection.id, length=existing.size,
                            offset=existing.size, meta=cleaned, completed_at=utcnow(),
                            photo_id=existing.id)
            db.session.add(upload)
            db.session.flush()
        return upload, existing
    upload = Upload(id=uuid.uuid4(), user_id=user.id, inspection_id=inspection.id, length=length,
                    offset=0, meta=cleaned)
    db.session.add(upload)
    db.session.flush()
    part_path(upload).touch()
    return upload, None


def get_upload(user: User, upload_id: str) -> Upload:
    """The user's own upload; anyone else's (or an unknown id) is 404."""
    try:
        key = uuid.UUID(upload_id)
    except ValueError:
        key = None
    upload = db.session.get(Upload, key) if key is not None else None
    if upload is None or upload.user_id != user.id:
        raise NotFound("Không tìm thấy lượt tải lên.", "Upload not found.")
    return upload


def part_path(upload: Upload | UploadState):
    """Where the bytes received so far of an upload are kept."""
    return get_storage().uploads_dir / f"{upload.id}.part"


# ---------------------------------------------------------------------------------------------
# Receiving bytes


@contextmanager
def part_lock(upload: Upload):
    """Exclusive use of the upload's part file while a chunk is written and committed."""
    path = part_path(upload)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadBusy("Ảnh này đang được gửi từ một kết nối khác; hãy thử lại sau.",
                             "This upload is being written by another request; try again.") from exc
        yield fd
    finally:
        os.close(fd)  # also releases the lock


# tus checksum algorithms (names as the extension spells them); tus clients default to sha1.
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


class UnsupportedChecksum(ServiceError):
    """tus 1.0 §Checksum: an algorithm the server does not support is a 400."""

    status = 400
    code = "checksum_algorithm"


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <sha1|sha256> <base64>`` (tus checksum extension)."""
    if not header:
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise UnsupportedChecksum("Upload-Checksum không hợp lệ.", "Upload-Checksum is not valid.")
    algorithm, encoded = parts[0].lower(), parts[1]
    if algorithm not in CHECKSUM_ALGORITHMS:
        supported = ", ".join(CHECKSUM_ALGORITHMS)
        raise UnsupportedChecksum(f"Upload-Checksum chỉ hỗ trợ {supported}.",
                                  f"Upload-Checksum supports only {supported}.")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise UnsupportedChecksum("Upload-Checksum không hợp lệ.",
                                  "Upload-Checksum is not valid.") from exc
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise UnsupportedChecksum("Upload-Checksum không hợp lệ.", "Upload-Checksum is not valid.")
    return algorithm, digest


@dataclass
class UploadState:
    """An upload's row as plain values: what a chunk and the completion need, held while no
    transaction is open (streaming a chunk or decoding an image must not hold a database lock)."""

    id: uuid.UUID
    user_id: int
    inspection_id: int
    length: int
    offset: int
    completed: bool
    photo_id: int | None
    meta: dict

    @classmethod
    def of(cls, upload: Upload) -> UploadState:
        """The upload's values as they are now."""
        return cls(id=upload.id, user_id=upload.user_id, inspection_id=upload.inspection_id,
                   length=upload.length, offset=upload.offset,
                   completed=upload.completed_at is not None, photo_id=upload.photo_id,
                   meta=dict(upload.meta or {}))


def _set_offset(state: UploadState, offset: int) -> None:
    db.session.execute(update(Upload).where(Upload.id == state.id).values(offset=offset)
                       .execution_options(synchronize_session=False))
    state.offset = offset


def receive_chunk(state: UploadState, fd: int, offset: int, stream: BinaryIO,
                  checksum: tuple[str, bytes] | None = None) -> int:
    """Append a chunk read from ``stream`` at ``offset``; returns the new offset (flushed).

    ``fd`` is the part file held by ``part_lock``; ``state`` was read under that lock. The
    offset must be the one the server confirmed (409 otherwise). A chunk that would pass
    Upload-Length, or whose Upload-Checksum does not match, is discarded. The database is
    touched only at the end (one conditional UPDATE), never while the bytes stream in.
    """
    if offset != state.offset:
        raise OffsetMismatch(
            f"Upload-Offset {offset} không khớp; máy chủ đã nhận {state.offset} byte.",
            f"Upload-Offset {offset} does not match: the server has {state.offset} bytes.")
    if state.completed:
        return state.offset
    size = os.fstat(fd).st_size
    if size < offset:  # the part file lost bytes the server confirmed: start again
        os.ftruncate(fd, 0)
        _set_offset(state, 0)
        raise OffsetMismatch("Phần đã nhận bị mất; hãy gửi lại từ đầu.",
                             "The received part was lost; send again from the start.")
    os.ftruncate(fd, offset)  # drop bytes of a chunk that was cut before it was confirmed
    os.lseek(fd, offset, os.SEEK_SET)
    remaining = state.length - offset
    digest = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum is not None else None
    received = 0
    cut = False
    try:
        while True:
            try:
                block = stream.read(min(READ_CHUNK, remaining - received + 1))
            except ClientDisconnected:
                # The connection dropped mid-chunk: keep what arrived (tus resumes from there),
                # unless the chunk carries a checksum, which a part of it cannot match.
                if checksum is not None:
                    raise
                cut = True
                break
            if not block:
                break
            received += len(block)
            if received > remaining:
                raise UploadTooLarge("Dữ liệu gửi vượt quá Upload-Length đã khai báo.",
                                     "The data goes past the declared Upload-Length.")
            if digest is not None:
                digest.update(block)
            view = memoryview(block)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        if digest is not None and not cut and digest.digest() != checksum[1]:
            raise ChecksumMismatch("Mã kiểm tra (Upload-Checksum) của đoạn dữ liệu không khớp; "
                                   "hãy gửi lại đoạn này.",
                                   "The chunk does not match its Upload-Checksum; send it again.")
        os.fsync(fd)
    except BaseException:
        os.ftruncate(fd, offset)
        raise
    new_offset = offset + received
    # Conditional: if another worker advanced the offset meanwhile, this chunk is not ours.
    done = db.session.execute(
        update(Upload).where(Upload.id == state.id, Upload.offset == offset)
        .values(offset=new_offset).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        os.ftruncate(fd, offset)
        raise OffsetMismatch("Lượt tải lên đã thay đổi trong lúc gửi; hãy hỏi lại vị trí (HEAD).",
                             "The upload changed meanwhile; ask for the offset again (HEAD).")
    state.offset = new_offset
    return new_offset


# ---------------------------------------------------------------------------------------------
# Checking images and making thumbnails


@dataclass
class ImageInfo:
    """What the checks found; width and height are as the photo is seen (EXIF orientation
    applied), the thumbnail is upright too."""

    format: str
    content_type: str
    width: int
    height: int
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    thumbnail: bytes


def _invalid(vi: str, en: str) -> InvalidImage:
    return InvalidImage(vi, en)


def inspect_image(source, pixel_limit: int | None = None) -> ImageInfo:
    """Open, check and decode an image (path or stream); raises InvalidImage with a clear message.

    Only JPEG, PNG and WebP are accepted, with at most ``pixel_limit`` pixels. Pillow's own
    decompression-bomb check only *raises* above twice ``Image.MAX_IMAGE_PIXELS`` and warns below
    that, so the warning is turned into an error here and the pixel count is checked explicitly
    before anything is decoded. The image is then decoded in full (a truncated file fails) — for
    JPEG at a reduced scale, enough for the thumbnail.
    """
    pixel_limit = pixel_limit or max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                image_format = im.format
                if image_format not in FORMATS:
                    raise _invalid(f"Định dạng ảnh {im.format} không được hỗ "
                                   f"trợ (chỉ JPEG, PNG, WebP).",
                                   f"Image format {im.format} is not "
                                   f"supported (JPEG, PNG, WebP only).")
                width, height = im.size
                if width < 1 or height < 1 or width * height > pixel_limit:
                    raise _invalid(
                        f"Ảnh quá nhiều điểm ảnh: {width}×{height} (tối đa "
                        f"{pixel_limit / 1e6:g} triệu).",
                        f"Too many pixels: {width}×{height} (at most "
                        f"{pixel_limit / 1e6:g} million).")
                if getattr(im, "n_frames", 1) > 1:
                    raise _invalid("Ảnh động không được chấp nhận.",
                                   "Animated images are not accepted.")
                exif = im.getexif()
                captured_at, latitude, longitude = _exif_time_and_place(exif)
                if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
                    width, height = height, width  # as the photo is seen (turned upright)
                if im.format == "JPEG":
                    im.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
                im.load()
                thumbnail = make_thumbnail(im)
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _invalid("Ảnh bị từ chối: kích thước khai báo quá lớn (nghi “bom giải nén”).",
                       "Image refused: its declared size is too "
                       "large (decompression bomb).") from exc
    except UnidentifiedImageError as exc:
        raise _invalid("Tệp không phải là ảnh (JPEG, PNG, WebP).",
                       "The file is not an image (JPEG, PNG, WebP).") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
            ZeroDivisionError, MemoryError) as exc:
        raise _invalid("Ảnh bị hỏng hoặc không đầy đủ, không đọc được.",
                       "The image is damaged or incomplete and cannot be read.") from exc
    return ImageInfo(format=image_format, content_type=FORMATS[image_format], width=width,
                     height=height,
                     captured_at=captured_at, latitude=latitude, longitude=longitude,
                     thumbnail=thumbnail)


def make_thumbnail(im: Image.Image) -> bytes:
    """A JPEG whose long side is at most THUMB_SIDE, turned upright per its EXIF orientation.

    Shrunk first (in place) and turned afterwards: turning a 40-megapixel bitmap would copy it."""
    im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    upright = ImageOps.exif_transpose(im)
    if upright.mode in ("RGBA", "LA", "P", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, (255, 255, 255))
        upright.paste(rgba, mask=rgba.getchannel("A"))
    elif upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=80, optimize=True, progressive=True)
    return out.getvalue()


def _exif_time_and_place(exif) -> tuple[datetime | None, float | None, float | None]:
    """Capture time (DateTimeOriginal, with its offset or Vietnam time) and GPS position."""
    captured_at = latitude = longitude = None
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if isinstance(raw, str) and raw.strip():
            moment = datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S")
            offset = details.get(ExifTags.Base.OffsetTimeOriginal)
            tz = VIETNAM
            if isinstance(offset, str) and re.fullmatch(r"[+-]\d\d:\d\d", offset.strip()):
                sign = -1 if offset.strip()[0] == "-" else 1
                hours, minutes = offset.strip()[1:].split(":")
                tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
            captured_at = moment.replace(tzinfo=tz)
    except (ValueError, TypeError, KeyError, AttributeError):
        captured_at = None
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)

        def degrees(value, ref, negative):
            d, m, s = (float(v) for v in value)
            number = d + m / 60 + s / 3600
            return -number if str(ref).upper().startswith(negative) else number

        if gps.get(2) and gps.get(4):
            latitude = degrees(gps[2], gps.get(1, "N"), "S")
            longitude = degrees(gps[4], gps.get(3, "E"), "W")
            if not (abs(latitude) <= 90 and abs(longitude) <= 180):
                latitude = longitude = None
    except (ValueError, TypeError, KeyError, AttributeError, ZeroDivisionError):
        latitude = longitude = None
    return captured_at, latitude, longitude


def thumbnail_path(photo: Photo):
    """The cached thumbnail of a photo, made from the stored original if it is missing."""
    store = get_storage()
    if not store.exists(photo.sha256, THUMB_SUFFIX):
        try:
            with store.open(photo.sha256) as original, decode_slot():
                info = inspect_image(original)
        except StorageError as exc:
            raise FileMissing("Tệp ảnh không còn trên máy chủ.",
                              "The photo file is missing.") from exc
        store.put_derived(photo.sha256, THUMB_SUFFIX, info.thumbnail)
    return store.path_for(photo.sha256, THUMB_SUFFIX)


# ---------------------------------------------------------------------------------------------
# Completing an upload


@contextmanager
def decode_slot():
    """One of PHOTO_DECODE_SLOTS places to decode an image, shared by every worker process of
    the instance (lock files in MEDIA_ROOT/uploads): a 40-megapixel image takes up to 160 MB
    while it is decoded, so the number decoding at once bounds the server's peak memory. Waits
    (cooperatively: time.sleep) up to PHOTO_DECODE_WAIT seconds, then answers 503."""
    import time

    from ..errors import DatabaseBusy

    slots = max(1, int(current_app.config.get("PHOTO_DECODE_SLOTS", 1)))
    folder = get_storage().uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + float(current_app.config.get("PHOTO_DECODE_WAIT", 120))
    delay = 0.01
    while True:
        for slot in range(slots):
            fd = os.open(folder / f".decode-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)  # also releases the lock
            return
        if time.monotonic() + delay > deadline:
            raise DatabaseBusy()
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def check_upload(state: UploadState) -> ImageInfo:
    """All bytes are in: check the whole file's SHA-256 and that it is an image within limits.

    Hashing and decoding run before any database statement (so no lock is held meanwhile), and
    decoding waits for a decode slot. On a mismatch the part is dropped and the upload restarts
    at offset 0 (ChecksumMismatch); a bad image drops the part and the upload (InvalidImage).
    The database changes of a refusal are flushed; the caller commits them and answers.
    """
    path = part_path(state)
    if sha256_of_file(path) != state.meta.get("sha256"):
        _unlink(path)
        path.touch()
        _set_offset(state, 0)
        raise ChecksumMismatch(
            "Ảnh nhận được không khớp mã SHA-256 đã khai báo; hãy gửi lại ảnh.",
            "The received photo does not match its declared SHA-256; send it again.")
    try:
        with decode_slot():
            return inspect_image(path)
    except InvalidImage:
        _unlink(path)
        db.session.execute(Upload.__table__.delete().where(Upload.__table__.c.id == state.id))
        raise


def complete_upload(state: UploadState, user: User, info: ImageInfo) -> Photo:
    """Store the checked original, cache its thumbnail, create the Photo (once per client UUID)
    and mark the upload complete; flushes, the caller commits."""
    path = part_path(state)
    meta = state.meta
    client_uuid = uuid.UUID(meta["client_uuid"])
    photo = db.session.scalar(select(Photo).where(Photo.client_uuid == client_uuid))
    if photo is None:
        store = get_storage()
        sha256 = store.put_file(path, sha256=meta["sha256"], move=True)
        if not store.exists(sha256, THUMB_SUFFIX):
            store.put_derived(sha256, THUMB_SUFFIX, info.thumbnail)
        captured_at = (datetime.fromisoformat(meta["captured_at"]) if meta.get("captured_at")
                       else info.captured_at)
        if captured_at is not None:  # stored in UTC (SQLite keeps no offset)
            captured_at = captured_at.astimezone(UTC)
        latitude, longitude = meta.get("latitude"), meta.get("longitude")
        if latitude is None or longitude is None:
            latitude, longitude = info.latitude, info.longitude
        try:
            with db.session.begin_nested():
                photo = Photo(client_uuid=client_uuid, inspection_id=state.inspection_id,
                              item_code=meta.get("item_code"), sha256=sha256, size=state.length,
                              width=info.width, height=info.height,
                              content_type=info.content_type, captured_at=captured_at,
                              latitude=latitude, longitude=longitude,
                              caption=meta.get("caption") or "", author_id=user.id)
                db.session.add(photo)
                db.session.flush()
        except IntegrityError:  # the same photo completed through another upload meanwhile
            photo = db.session.scalar(select(Photo).where(Photo.client_uuid == client_uuid))
            if photo is None:
                raise
        else:
            log_change(photo.inspection_id, "photo", photo_data(photo), user.id)
            audit.record("photo.create", photo, user, inspection_id=photo.inspection_id,
                         sha256=sha256, size=photo.size, upload_id=str(state.id))
            if photo.item_code:  # photos of a "photo" item count towards its score
                refresh_scores([photo.inspection_id])
    _unlink(path)
    db.session.execute(update(Upload).where(Upload.id == state.id).values(
        offset=state.length, completed_at=utcnow(), photo_id=photo.id)
        .execution_options(synchronize_session=False))
    state.offset, state.completed, state.photo_id = state.length, True, photo.id
    return photo


def purge_stale_uploads(older_than: timedelta = timedelta(days=30)) -> int:
    """Forget uploads never completed within ``older_than`` (and their part files); returns how
    many. A device that comes back later gets 404 on HEAD and starts the upload again."""
    cutoff = utcnow() - older_than
    stale = db.session.scalars(select(Upload).where(Upload.completed_at.is_(None),
                                                    Upload.created_at < cutoff)).all()
    for upload in stale:
        _unlink(part_path(upload))
        db.session.delete(upload)
    db.session.flush()
    return len(stale)


def get_visible_photo(user: User, photo_id: int) -> Photo:
    """A photo of an inspection the user may see; otherwise 404."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or not can_view(user, db.session.get(Inspection, photo.inspection_id)):
        raise NotFound("Không tìm thấy ảnh.", "Photo not found.")
    return photo


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
