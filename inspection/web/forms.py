"""Reading what a form sends: numbers typed in a form or a query, uploaded certificates."""
from ..models.base import MAX_ID
from ..services.certinfo import MAX_CERTIFICATE_BYTES


def form_id(raw, default: int | None = None) -> int | None:
    """A number typed in a form or a query: ASCII digits within the database's integers, else
    `default` (so "²", "١٢" or a 40-digit number never reaches int() or the database)."""
    raw = str(raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        return default
    return int(raw)


def read_certificate_upload(upload) -> bytes:
    """The bytes of an uploaded .cer/.pem (at most one byte past the limit, so that a larger
    file is refused by the check without being read whole); b"" when no file was chosen."""
    return upload.read(MAX_CERTIFICATE_BYTES + 1) if upload is not None else b""
