"""The one JSON loader for request bodies and imported files: bounded nesting, no recursion.

Python's json module recurses once per level of nesting, so a body of a few thousand ``[`` ends in
RecursionError (a 500). Before parsing, the document's brackets are checked without recursion:
escapes and strings are dropped, then everything but brackets, and innermost pairs are removed one
level at a time (each pass one regular-expression substitution, so a megabyte costs milliseconds).
"""
from __future__ import annotations

import json
import re

MAX_DEPTH = 64

_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


class JSONTooDeep(Exception):
    """The document nests deeper than allowed. Not a ValueError on purpose: callers that treat
    any undecodable body as "no JSON" must not turn this into something else."""

    def __init__(self, limit: int):
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


def nesting_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than ``limit``.

    Malformed text (unbalanced brackets) is not judged here: the parser reports it."""
    if text.count("[") + text.count("{") <= limit:
        return False
    if "\\" in text:  # drop escaped backslashes, then escaped quotes: only real quotes remain
        text = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(text.split('"')[0::2])  # what lies between strings: brackets, keys' colons…
    skeleton = _NOT_BRACKET.sub("", outside)
    for _ in range(limit):
        skeleton, removed = _INNERMOST.subn("", skeleton)
        if not skeleton or not removed:
            return False
    return _INNERMOST.search(skeleton) is not None


def loads(data: str | bytes | bytearray, **kwargs):
    """json.loads with the nesting limit; raises JSONTooDeep, or ValueError when malformed."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if nesting_exceeds(text):
        raise JSONTooDeep(MAX_DEPTH)
    return json.loads(text, **kwargs)
