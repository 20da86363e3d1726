"""The default checklist templates shipped with the app.

One JSON file per unit type, named after the template's code: district (huyện, until
30/6/2025), commune in the 3-level model (until 30/6/2025) and commune in the 2-level model
(from 1/7/2025). Their points are indicative, not official: a province imports its own index
as another template in the same format (see ``inspection.checklists.format``).
"""

from __future__ import annotations

from pathlib import Path

from .format import load_template_json

CHECKLIST_DIR = Path(__file__).resolve().parent

DEFAULT_TEMPLATES: list[Path] = [
    CHECKLIST_DIR / "cchc-huyen.json",
    CHECKLIST_DIR / "cchc-xa-3cap.json",
    CHECKLIST_DIR / "cchc-xa-2cap.json",
]


def load_default(code: str) -> dict:
    """The shipped template with this code (e.g. "cchc-xa-2cap"), validated and cleaned.

    Raises KeyError for a code that is not shipped. Each call returns a fresh dict.
    """
    for path in DEFAULT_TEMPLATES:
        if path.stem == code:
            return load_template_json(path.read_bytes())
    known = ", ".join(path.stem for path in DEFAULT_TEMPLATES)
    raise KeyError(f"no default checklist {code!r}; shipped: {known}")
