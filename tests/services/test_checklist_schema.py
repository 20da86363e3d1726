"""Checklist template documents: the shipped templates, and every refusal with its exact path."""

import copy
import json
import unicodedata
from pathlib import Path

import pytest

from inspection.checklists import DEFAULT_TEMPLATES, load_default
from inspection.checklists.format import TemplateError, load_template_json, validate_template

DATA = Path(__file__).resolve().parent.parent / "data" / "checklists"
MINIMAL = json.loads((DATA / "minimal.json").read_text(encoding="utf-8"))


def minimal() -> dict:
    return copy.deepcopy(MINIMAL)


def refusal(doc) -> list[dict]:
    with pytest.raises(TemplateError) as caught:
        validate_template(doc)
    errors = caught.value.errors
    assert all(e["message"] and e["message_vi"] for e in errors)
    return errors


def paths(errors: list[dict]) -> list[str]:
    return [e["path"] for e in errors]


def items_of(template: dict) -> dict:
    return {item["code"]: item for s in template["sections"] for item in s["items"]}


# ------------------------------------------------------------------ shipped templates


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_shipped_template_validates_and_adds_up_to_100(path):
    doc = load_template_json(path.read_bytes())
    assert doc["code"] == path.stem
    assert doc["scoring"]["scale"] == 100
    assert sum(s["max_points"] for s in doc["sections"]) == 100
    # Sums of 1.5-point items must be exact, not merely close.
    for section in doc["sections"]:
        assert sum(i["max_points"] or 0 for i in section["items"]) == section["max_points"]
    assert "points are indicative, not official" in doc["notes_en"].lower()
    assert "không phải điểm chính thức" in doc["notes_vi"]


def test_a_cleaned_template_validates_again_unchanged():
    cleaned = load_default("cchc-xa-2cap")
    assert validate_template(copy.deepcopy(cleaned)) == cleaned


def test_the_three_defaults_cover_both_eras():
    loaded = {p.stem: load_default(p.stem) for p in DEFAULT_TEMPLATES}
    validity = {code: (t["applies_to"], t["valid_from"], t["valid_to"])
                for code, t in loaded.items()}
    assert validity == {
        "cchc-huyen": ("huyen", None, "2025-06-30"),
        "cchc-xa-3cap": ("xa_3cap", None, "2025-06-30"),
        "cchc-xa-2cap": ("xa_2cap", "2025-07-01", None),
    }
    # District-and-new-commune items drop out of the 3-level commune template.
    assert "TCC.08" in items_of(loaded["cchc-huyen"])
    assert "TCC.08" not in items_of(loaded["cchc-xa-3cap"])
    assert "R20" not in {r["id"] for r in loaded["cchc-xa-3cap"]["rules"]}


def test_load_default_refuses_an_unknown_code():
    with pytest.raises(KeyError, match="cchc-huyen"):
        load_default("cchc-tinh")


def test_era_wording():
    old, new = load_default("cchc-huyen"), load_default("cchc-xa-2cap")
    one_stop = "Bộ phận Tiếp nhận và Trả kết quả (Bộ phận Một cửa)"
    assert one_stop in items_of(old)["TTHC.02"]["title_vi"]
    assert "mức độ 3, 4" in items_of(old)["CQS.09"]["title_vi"]
    assert "Trung tâm Phục vụ hành chính công" in items_of(new)["TTHC.02"]["title_vi"]
    assert "toàn trình, một phần" in items_of(new)["CQS.09"]["title_vi"]
    text = json.dumps(new, ensure_ascii=False)
    assert "Một cửa" not in text and "mức độ 3" not in text


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_indicators_targets_and_rules(path):
    doc = load_default(path.stem)
    items = items_of(doc)
    by_indicator = {i["indicator"]: i for i in items.values() if i["kind"] == "ratio"}
    assert by_indicator["on_time_rate"]["code"] == "TTHC.32"
    assert by_indicator["on_time_rate"]["target"]["value"] == 98
    assert by_indicator["signed_share"]["code"] == "CQS.05"
    assert by_indicator["signed_share"]["target"]["value"] == 90
    online = by_indicator["online_share"]
    assert (online["code"], online["target"], online["max_points"]) == ("TTHC.33", None, None)

    rules = {r["id"]: r for r in doc["rules"]}
    assert "R17" not in rules and "R18" not in rules  # prose, now done by scoring
    assert rules["R08"]["expr"] == "TTHC.31 >= (TTHC.25 - TTHC.26) + TTHC.29"
    assert rules["R08"]["defaults"] == {"TTHC.29": 0, "TTHC.31": 0}
    assert rules["R08"]["suggests"] == ["REC.TTHC.02"]
    assert rules["R01"]["defaults"] == {"TTHC.30": 0}
    assert rules["R02"]["defaults"] == {}


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_every_section_has_a_recommendation_and_every_link_resolves(path):
    doc = load_default(path.stem)
    covered = {rec["section"] for rec in doc["recommendations"]}
    assert covered == {s["code"] for s in doc["sections"]}
    linked = {code for rec in doc["recommendations"] for code in rec["items"]}
    assert {"TTHC.32", "TTHC.34", "CQS.05"} <= linked


# ------------------------------------------------------------------------- refusals


def test_the_minimal_fixture_is_valid():
    assert validate_template(minimal())["code"] == "test-minimal"


def _set(path: str, value):
    """A mutation that sets ``a.b[2].c`` (dotted keys with [index]) to ``value``."""
    def mutate(doc):
        keys = []
        for part in path.split("."):
            name, *indexes = part.replace("]", "").split("[")
            keys += [name] + [int(i) for i in indexes]
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        return doc
    return mutate


def _dup_item(doc):
    doc["sections"][1]["items"][1]["code"] = "B.01"
    return doc


def _dup_section(doc):
    doc["sections"].append(copy.deepcopy(doc["sections"][0]))
    doc["sections"][2]["order"] = 3
    doc["scoring"]["scale"] = 140
    return doc


def _dup_rule(doc):
    doc["rules"][1]["id"] = "R01"
    return doc


def _dup_rec(doc):
    doc["recommendations"][1]["code"] = "REC.A.01"
    return doc


REFUSALS = [
    # (what, mutation, path, words of the English message)
    ("unknown kind", _set("sections[0].items[0].kind", "checkbox"),
     "sections[0].items[0].kind", "Unknown value 'checkbox'"),
    ("duplicate item code", _dup_item, "sections[1].items[1].code", "Duplicate code 'B.01'"),
    ("duplicate section code", _dup_section, "sections[2].code", "Duplicate code 'A'"),
    ("duplicate rule id", _dup_rule, "rules[1].id", "Duplicate code 'R01'"),
    ("duplicate recommendation", _dup_rec, "recommendations[1].code",
     "Duplicate code 'REC.A.01'"),
    ("ratio to a missing item", _set("sections[1].items[2].ratio.numerator[0]", "B.99"),
     "sections[1].items[2].ratio.numerator[0]", "Unknown item code 'B.99'"),
    ("ratio to a non-count item", _set("sections[1].items[2].ratio.denominator[0]", "A.01"),
     "sections[1].items[2].ratio.denominator[0]", "'A.01' is a yesno item"),
    ("points on a count", _set("sections[1].items[0].max_points", 5),
     "sections[1].items[0].max_points", "A count item carries no points"),
    ("points on a photo", _set("sections[0].items[3].max_points", 1),
     "sections[0].items[3].max_points", "A photo item carries no points"),
    ("yesno without points", _set("sections[0].items[0].max_points", None),
     "sections[0].items[0].max_points", "A yesno item needs max_points"),
    ("points on a ratio without target", _set("sections[1].items[3].max_points", 2),
     "sections[1].items[3].max_points", "informational"),
    ("ratio without numerator and denominator", _set("sections[1].items[2].ratio", None),
     "sections[1].items[2].ratio", "needs numerator and denominator"),
    ("target on a yesno", _set("sections[0].items[0].target", {"op": ">=", "value": 50}),
     "sections[0].items[0].target", "Only ratio items have target"),
    ("section points not adding up", _set("sections[0].items[1].max_points", 15),
     "sections[0].max_points", "Section points 40 do not add up: its items total 35"),
    ("sections not adding up to the scale", _set("scoring.scale", 90),
     "sections", "Section points add up to 100, not scoring.scale 90"),
    ("item code outside its section", _set("sections[0].items[1].code", "B.09"),
     "sections[0].items[1].code", "must start with the section code 'A.'"),
    ("rule syntax error", _set("rules[0].expr", "B.02 = B.01"),
     "rules[0].expr", "Rule does not parse at character 5: Use '==' to test equality"),
    ("rule that is not a comparison", _set("rules[0].expr", "B.02 + B.01"),
     "rules[0].expr", "Rule does not parse at character 0"),
    ("rule to an unknown code", _set("rules[0].expr", "B.99 <= B.01"),
     "rules[0].expr", "Unknown item code 'B.99'"),
    ("rule to a non-count item", _set("rules[0].expr", "A.01 <= B.01"),
     "rules[0].expr", "A rule may only use count items; 'A.01' is a yesno item"),
    ("default for a code the rule does not use", _set("rules[2].defaults", {"B.03": 0}),
     'rules[2].defaults["B.03"]', "has a default but the rule does not use it"),
    ("suggests an unknown recommendation", _set("rules[2].suggests", ["REC.B.09"]),
     "rules[2].suggests[0]", "Unknown recommendation code 'REC.B.09'"),
    ("unknown severity", _set("rules[0].severity", "fatal"),
     "rules[0].severity", "Unknown value 'fatal'"),
    ("recommendation for an unknown section", _set("recommendations[0].section", "Z"),
     "recommendations[0].section", "Unknown section code 'Z'"),
    ("recommendation for an unknown item", _set("recommendations[0].items", ["A.09"]),
     "recommendations[0].items[0]", "Unknown item code 'A.09'"),
    ("classes not descending", _set("scoring.classes[1].min", 95),
     "scoring.classes[1].min", "best first"),
    ("unknown ratio method", _set("scoring.ratio_method", "linear"),
     "scoring.ratio_method", "Unknown value 'linear'"),
    ("partial factor above 1", _set("scoring.partial_factor", 1.5),
     "scoring.partial_factor", "Must be >= 0 and <= 1"),
    ("unknown top-level key", _set("colour", "blue"), "colour", "Unknown field"),
    ("unknown item key", _set("sections[0].items[0].weight", 3),
     "sections[0].items[0].weight", "Unknown field"),
    ("sections is a string", _set("sections", "TTHC"), "sections", "Not a valid list"),
    ("items missing", lambda d: (d["sections"][0].pop("items"), d)[1],
     "sections[0].items", "Missing data for required field"),
    ("a boolean for points", _set("sections[0].items[0].max_points", True),
     "sections[0].items[0].max_points", "Not a finite number"),
    ("wrong format", _set("format", "cchc-checklist/2"), "format", "Unknown value"),
    ("bad date", _set("valid_from", "1/7/2025"), "valid_from", "YYYY-MM-DD"),
    ("2-level template before 1/7/2025", _set("valid_from", "2025-01-01"),
     "valid_from", "The 2-level model started on 2025-07-01"),
    ("applies_to against the era", _set("applies_to", "huyen"),
     "applies_to", "applies_to 'huyen' means unit_level 'district'"),
    ("duplicate indicator key", _set("sections[1].items[3].indicator", "on_time_rate"),
     "sections[1].items[3].indicator", "Duplicate code 'on_time_rate'"),
]


@pytest.mark.parametrize("mutate,path,words", [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refusal_names_the_exact_path(mutate, path, words):
    errors = refusal(mutate(minimal()))
    matching = [e for e in errors if e["path"] == path]
    assert matching, f"no error at {path}: {errors}"
    assert any(words in e["message"] for e in matching), matching


def test_messages_come_in_vietnamese_too():
    doc = _set("sections[1].items[2].ratio.numerator[0]", "B.99")(minimal())
    (error,) = refusal(doc)
    assert error["message_vi"] == "Không có chỉ tiêu mã 'B.99'."
    (error,) = refusal(_set("colour", 1)(minimal()))
    assert error["message_vi"] == "Trường không được phép."
    (error,) = refusal(_set("rules[0].expr", "B.02 = B.01")(minimal()))
    assert error["message_vi"] == \
        "Quy tắc sai cú pháp tại ký tự 5: Dùng '==' để so sánh bằng."


def test_a_document_that_is_not_an_object():
    (error,) = refusal(["not", "a", "template"])
    assert error["path"] == "" and error["message"] == "Invalid input type."


def test_several_problems_are_reported_together():
    doc = minimal()
    doc["sections"][0]["items"][0]["kind"] = "checkbox"
    doc["sections"][1]["items"][0]["max_points"] = 5
    doc["rules"][0]["severity"] = "fatal"
    assert set(paths(refusal(doc))) == {"sections[0].items[0].kind",
                                        "sections[1].items[0].max_points", "rules[0].severity"}


def test_a_shipped_template_reports_its_real_path():
    doc = json.loads(DEFAULT_TEMPLATES[0].read_text(encoding="utf-8"))
    tthc = [s["code"] for s in doc["sections"]].index("TTHC")
    on_time = [i["code"] for i in doc["sections"][tthc]["items"]].index("TTHC.32")
    doc["sections"][tthc]["items"][on_time]["ratio"]["numerator"] = ["TTHC.99"]
    (error,) = refusal(doc)
    assert error["path"] == f"sections[{tthc}].items[{on_time}].ratio.numerator[0]"
    assert str(TemplateError([error])) == \
        f"sections[2].items[{on_time}].ratio.numerator[0]: Unknown item code 'TTHC.99'."


# ---------------------------------------------------------------------------- JSON text


def test_invalid_json_reports_line_and_column():
    with pytest.raises(TemplateError) as caught:
        load_template_json((DATA / "invalid-json.json").read_bytes())
    (error,) = caught.value.errors
    assert (error["path"], error["line"], error["column"]) == ("", 4, 1)
    assert error["message"].startswith("Invalid JSON at line 4, column 1:")
    assert error["message_vi"].startswith("JSON không hợp lệ tại dòng 4, cột 1:")


def test_duplicate_json_keys_are_refused():
    text = (DATA / "minimal.json").read_text(encoding="utf-8").replace(
        '"version": "1",', '"version": "1", "version": "2",')
    with pytest.raises(TemplateError, match="'version' appears twice"):
        load_template_json(text)


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(TemplateError, match="Not UTF-8"):
        load_template_json(b'{"title_vi": "C\xf4 Ng\xe2n"}')


def test_nan_is_refused_with_its_path():
    text = (DATA / "minimal.json").read_text(encoding="utf-8").replace(
        '"partial_factor": 0.5', '"partial_factor": NaN')
    with pytest.raises(TemplateError) as caught:
        load_template_json(text)
    assert paths(caught.value.errors) == ["scoring.partial_factor"]


def test_text_is_stored_nfc():
    doc = minimal()
    doc["title_vi"] = unicodedata.normalize("NFD", "Danh mục kiểm tra xã Cô Ngân")
    cleaned = validate_template(doc)
    assert cleaned["title_vi"] == unicodedata.normalize("NFC", "Danh mục kiểm tra xã Cô Ngân")
    assert cleaned["rules"][0]["defaults"] == {} and cleaned["sections"][0]["optional"] is False
