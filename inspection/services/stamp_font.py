"""The font of the visible signature stamps.

pyHanko's text stamps write glyph widths in raw font units, which garbles any TrueType font
whose unitsPerEm is not 1000 (Liberation Serif has 2048): `stamp_font_path` makes, at first
use, a copy rescaled to 1000 units per em in a cache folder, renamed "CCHC Stamp Serif" since
"Liberation" is a Reserved Font Name of the OFL. `stamp_font_engine` hands it to pyHanko.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import tempfile
import threading
from pathlib import Path

from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

from ..pdf.minutes import FONT_DIR

# fontTools reports every table it does not subset ("FFTM NOT subset") on each stamp.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

STAMP_FONT_FAMILY = "CCHC Stamp Serif"


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
        from fontTools import subset
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

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


class InMemoryGlyphAccumulatorFactory(GlyphAccumulatorFactory):
    """pyHanko's factory opens the font file and never closes it (a ResourceWarning per stamp);
    this one reads the font once and hands pyHanko an in-memory copy."""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        """A glyph engine over the font read once, for one PDF writer."""
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer, font_handle=io.BytesIO(_font_bytes(self.font_file)),
            font_size=self.font_size, ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag, writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code, obj_stream=obj_stream)


def stamp_font_engine(cache_dir: str | os.PathLike | None, font_size: float
                      ) -> InMemoryGlyphAccumulatorFactory:
    """pyHanko's font engine factory for stamps in the stamp font at `font_size`."""
    return InMemoryGlyphAccumulatorFactory(str(stamp_font_path(cache_dir)), font_size=font_size)
