"""Every message shown to people exists in English too, and the compiled catalogue is current."""
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "inspection/translations/en/LC_MESSAGES"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "inspection"), METHODS, keywords={"_": None, "N_": None}):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def test_every_vietnamese_message_has_an_english_translation():
    catalog = read_po(BytesIO((CATALOG / "messages.po").read_bytes()))
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in source_messages() if not translated.get(m))
    assert missing == [], "run scripts/translations.sh update, translate, then compile"


def test_compiled_catalogue_matches_the_po_file():
    po = {m.id: m.string for m in read_po(BytesIO((CATALOG / "messages.po").read_bytes())) if m.id}
    mo = {m.id: m.string for m in read_mo(BytesIO((CATALOG / "messages.mo").read_bytes())) if m.id}
    assert mo == po, "run scripts/translations.sh compile"
