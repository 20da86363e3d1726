"""Draw the field app's icons (static/icons/*.png) with Pillow.

    .venv/bin/python scripts/make_icons.py

A red rounded square with a white clipboard carrying a check mark, and "CCHC" below it. The
maskable variant fills the whole square with red and keeps the drawing inside the central 80 %
circle that launchers may crop to. The PNGs are committed; run this again only to change the
design (the service worker's version changes with them, so devices pick the new icons up).
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
RED = (179, 38, 30, 255)
DARK_RED = (139, 26, 26, 255)
WHITE = (255, 255, 255, 255)
FONTS = [
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
]
SUPERSAMPLE = 4  # draw large and scale down: Pillow's shapes are not anti-aliased


def bold_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def draw_icon(size: int, maskable: bool) -> Image.Image:
    """One icon of `size` pixels; the drawing is scaled into the safe zone when maskable."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=RED)
        scale, offset = 0.72, big * 0.14  # the drawing fits the central 80 % circle
    else:
        margin = big * 0.04
        draw.rounded_rectangle((margin, margin, big - margin, big - margin), radius=big * 0.2,
                               fill=RED)
        scale, offset = 1.0, 0.0

    def box(x0, y0, x1, y1):
        return tuple(offset + v * big * scale for v in (x0, y0, x1, y1))

    def point(x, y):
        return (offset + x * big * scale, offset + y * big * scale)

    # Clipboard board and its clip.
    draw.rounded_rectangle(box(0.27, 0.16, 0.73, 0.68), radius=big * scale * 0.05, fill=WHITE)
    draw.rounded_rectangle(box(0.39, 0.11, 0.61, 0.21), radius=big * scale * 0.03, fill=DARK_RED)
    draw.rounded_rectangle(box(0.42, 0.13, 0.58, 0.19), radius=big * scale * 0.02, fill=WHITE)
    # Check mark.
    draw.line([point(0.36, 0.42), point(0.47, 0.53), point(0.65, 0.31)], fill=RED,
              width=int(big * scale * 0.065), joint="curve")
    # "CCHC" under the board.
    font = bold_font(int(big * scale * 0.17))
    left, top, right, _ = draw.textbbox((0, 0), "CCHC", font=font)
    x = offset + (big * scale - (right - left)) / 2 - left
    y = offset + big * scale * 0.71 - top
    draw.text((x, y), "CCHC", font=font, fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("icon-maskable-512.png", 512, True)):
        draw_icon(size, maskable).save(OUT / name, optimize=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
