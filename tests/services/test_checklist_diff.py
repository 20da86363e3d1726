"""The differences between two checklist versions, as the editor lists them."""
import copy

from inspection.checklists import load_default
from inspection.checklists.diff import differences


def test_what_was_added_removed_changed_and_reordered_is_listed():
    old = load_default("cchc-xa-2cap")
    new = copy.deepcopy(old)
    assert differences(old, new) == []
    tc = next(s for s in new["sections"] if s["code"] == "TC")
    tc["items"][0], tc["items"][1] = tc["items"][1], tc["items"][0]
    new["sections"] = [s for s in new["sections"] if s["code"] != "TD"]
    new["rules"][0]["severity"] = "info"
    new["valid_to"] = "2026-12-31"
    found = {(d["part"], d["code"], d["change"]) for d in differences(old, new)}
    assert ("section", "TC", "reordered") in found
    assert ("section", "TD", "removed") in found
    assert {("item", i["code"], "removed") for s in old["sections"] if s["code"] == "TD"
            for i in s["items"]} <= found
    assert ("rule", new["rules"][0]["id"], "changed") in found
    assert ("setting", "valid_to", "changed") in found
    [rule] = [d for d in differences(old, new) if d["part"] == "rule"]
    assert rule["keys"] == [("severity", old["rules"][0]["severity"], "info")]
