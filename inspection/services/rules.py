"""Consistency-rule language: tokenizer, recursive-descent parser and three-valued evaluator.

A rule is a comparison over checklist item codes, e.g. ``TTHC.25 + TTHC.28 == TTHC.20``.
The same language is implemented in ``static/js/rules.js`` for the offline tablet; both follow
the same structure and are checked against ``tests/data/rules_cases.json``, so change them
together. User input is never handed to ``eval`` or ``ast``: rules are written by admins but
travel through the sync API, so the parser is the only thing that ever interprets them.

Error positions are 0-based character offsets: the start of the offending token, ``len(expr)``
for an unexpected end, 500 for an over-long rule, 0 for an empty one, the operator for type and
depth errors (or the "(" / "-" that opens a level too deep), the first token for a rule that is
not a comparison. Evaluation is three-valued (see ``evaluate``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

MAX_LENGTH = 500
MAX_TOKENS = 200
MAX_DEPTH = 32
TOLERANCE = 1e-9
MAX_LITERAL = 1e15
MAX_SIGNIFICANT_DIGITS = 15

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
# Counts typed on a tablet pass through decimal fractions (0.1 + 0.2), so compare with slack.
_COMPARE = {
    "==": lambda a, b: abs(a - b) <= TOLERANCE,
    "!=": lambda a, b: abs(a - b) > TOLERANCE,
    "<": lambda a, b: b - a > TOLERANCE,
    "<=": lambda a, b: a - b <= TOLERANCE,
    ">": lambda a, b: a - b > TOLERANCE,
    ">=": lambda a, b: b - a <= TOLERANCE,
}
_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}
# Unknown results carry their reason; the highest rank wins when unknowns combine.
_REASON_RANK = {"missing_values": 1, "overflow": 2, "division_by_zero": 3}

_MESSAGES = {  # key: (English, Vietnamese); "{0}" is the offending text
    "empty": ("The rule is empty", "Quy tắc đang để trống"),
    "too_long": (f"The rule is longer than {MAX_LENGTH} characters",
                 f"Quy tắc dài quá {MAX_LENGTH} ký tự"),
    "too_many_tokens": (f"The rule has more than {MAX_TOKENS} parts",
                        f"Quy tắc có quá {MAX_TOKENS} thành phần"),
    "too_deep": (f"The rule is nested more than {MAX_DEPTH} levels deep",
                 f"Quy tắc lồng nhau quá {MAX_DEPTH} cấp"),
    "bad_char": ("Unexpected character '{0}'", "Ký tự không hợp lệ '{0}'"),
    "single_equals": ("Use '==' to test equality", "Dùng '==' để so sánh bằng"),
    "bad_number": ("Invalid number '{0}': use plain decimals such as 12 or 3.5",
                   "Số không hợp lệ '{0}': chỉ dùng số thập phân như 12 hoặc 3.5"),
    "number_too_big": (
        "Number '{0}' has more than 15 significant digits or exceeds 1e15",
        "Số '{0}' có quá 15 chữ số có nghĩa hoặc vượt quá 1e15"),
    "bad_code": ("Malformed item code '{0}'", "Mã chỉ tiêu không đúng dạng '{0}'"),
    "unknown_name": ("Unknown name '{0}': item codes look like TTHC.20",
                     "Tên không xác định '{0}': mã chỉ tiêu có dạng TTHC.20"),
    "unexpected_end": ("The rule ends unexpectedly", "Quy tắc kết thúc khi chưa đầy đủ"),
    "unexpected_token": ("Unexpected '{0}'", "Không thể có '{0}' ở vị trí này"),
    "missing_paren": ("Missing ')'", "Thiếu dấu ')'"),
    "chained": ("Comparisons cannot be chained: join them with 'and'",
                "Không được viết liền các phép so sánh: hãy nối bằng 'and'"),
    "not_comparison": (
        "The rule must be a comparison, e.g. TTHC.21 <= TTHC.20",
        "Quy tắc phải là một phép so sánh, ví dụ TTHC.21 <= TTHC.20"),
    "need_bool": ("'{0}' needs a comparison on each side",
                  "'{0}' cần một phép so sánh ở mỗi vế"),
    "need_number": ("'{0}' needs numbers, not comparisons",
                    "'{0}' cần giá trị số, không phải phép so sánh"),
}


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed; ``position`` is the 0-based offset of the offending token."""

    def __init__(self, message_en: str, position: int, message_vi: str | None = None,
                 code: str = "syntax") -> None:
        super().__init__(message_en, position)
        self.message_en = message_en
        self.message_vi = message_vi or message_en
        self.position = position
        self.code = code

    def __str__(self) -> str:
        return f"{self.message_en} (at character {self.position})"


def _error(key: str, position: int, text: str = "") -> RuleSyntaxError:
    en, vi = _MESSAGES[key]
    return RuleSyntaxError(en.replace("{0}", text), position, vi.replace("{0}", text), key)


@dataclass(frozen=True)
class Node:
    """AST node: kind "num" (value=float), "code" (value=str), "neg" or "bin" (op, args)."""

    kind: str
    pos: int
    value: float | str | None = None
    op: str | None = None
    args: tuple[Node, ...] = ()
    height: int = 1  # AST depth below and including this node; parentheses count as a level


@dataclass(frozen=True)
class RuleOutcome:
    """Result of evaluating a rule: status "pass" | "fail" | "unknown"."""

    status: str
    missing: list[str] = field(default_factory=list)
    reason: str | None = None

    def as_dict(self) -> dict:
        """Plain JSON-ready form, identical to what rules.js returns."""
        return {"status": self.status, "missing": list(self.missing), "reason": self.reason}


# Character classes are spelled out in ASCII because Python's \d and str.isdigit() accept
# non-ASCII digits that rules.js would reject; both files share these exact patterns.
_TOKEN = re.compile(r"[ \t\r\n]+|[0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*"
                    r"|[=!<>]=|[-+*/<>()]")
_WORDISH = re.compile(r"[A-Za-z0-9._]*")


def _tokenize(src: str) -> list[tuple[str, str, int]]:
    """Split ``src`` into (type, text, position) tuples ending with an "end" token."""
    tokens: list[tuple[str, str, int]] = []
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if m and m.group()[0] in " \t\r\n":
            i = m.end()
            continue
        if len(tokens) >= MAX_TOKENS:
            raise _error("too_many_tokens", i)
        if not m:
            raise _error("single_equals" if src[i] == "=" else "bad_char", i, src[i])
        text, start, i = m.group(), i, m.end()
        kind = "num" if "0" <= text[0] <= "9" else "word" if text[0].isalpha() else text
        # "1e5", "0x1F", "5.", "TTHC.", "TT_01": refuse the whole run rather than split it.
        if kind in ("num", "word") and _WORDISH.match(src, i).group():
            bad = _WORDISH.match(src, start).group()
            raise _error("bad_number" if kind == "num" else "bad_code", start, bad)
        if kind == "num" and (len(text.replace(".", "").strip("0")) > MAX_SIGNIFICANT_DIGITS
                              or float(text) > MAX_LITERAL):
            raise _error("number_too_big", start, text)
        if kind == "word":
            if text in ("and", "or"):
                kind = text
            elif "." in text:
                kind = "code"
            else:
                raise _error("unknown_name", start, text)
        tokens.append((kind, text, start))
    tokens.append(("end", "", len(src)))
    return tokens


def _is_bool(node: Node) -> bool:
    return node.kind == "bin" and (node.op in COMPARISONS or node.op in ("and", "or"))


# Binary operators from loosest to tightest binding; comparisons are non-associative.
_LEVELS = (("or",), ("and",), COMPARISONS, ("+", "-"), ("*", "/"))


class _Parser:
    """Recursive descent: one generic loop per precedence level, then unary minus and atoms."""

    def __init__(self, src: str) -> None:
        self.tokens = _tokenize(src)
        self.i = 0
        self.open = 0  # enclosing "(" and unary "-": bounds recursion before it happens

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        self.i += 1
        return self.tokens[self.i - 1]

    def enter(self, tok: tuple[str, str, int]) -> None:
        if self.open >= MAX_DEPTH:
            raise _error("too_deep", tok[2])
        self.open += 1

    def make(self, op: str, args: tuple[Node, ...], pos: int) -> Node:
        # Types are checked here so a rule like "1 and 2" never reaches an evaluator.
        wants_bool = op in ("and", "or")
        if any(_is_bool(a) != wants_bool for a in args):
            raise _error("need_bool" if wants_bool else "need_number", pos, op)
        height = 1 + max(a.height for a in args)
        if height > MAX_DEPTH:
            raise _error("too_deep", pos)
        return Node("bin" if len(args) == 2 else "neg", pos, op=op, args=args, height=height)

    def parse(self) -> Node:
        first = self.peek()
        if first[0] == "end":
            raise _error("empty", 0)
        node = self.parse_level(0)
        tok = self.peek()
        if tok[0] != "end":
            raise _error("unexpected_token", tok[2], tok[1])
        if not _is_bool(node):
            raise _error("not_comparison", first[2])
        return node

    def parse_level(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.parse_unary()
        node = self.parse_level(level + 1)
        while self.peek()[0] in _LEVELS[level]:
            op = self.take()
            node = self.make(op[0], (node, self.parse_level(level + 1)), op[2])
            if _LEVELS[level] is COMPARISONS and self.peek()[0] in COMPARISONS:
                raise _error("chained", self.peek()[2])
        return node

    def parse_unary(self) -> Node:
        tok = self.take()
        if tok[0] == "-":
            self.enter(tok)
            operand = self.parse_unary()
            self.open -= 1
            return self.make("-", (operand,), tok[2])
        if tok[0] == "num":
            return Node("num", tok[2], value=float(tok[1]))
        if tok[0] == "code":
            return Node("code", tok[2], value=tok[1])
        if tok[0] == "end":
            raise _error("unexpected_end", tok[2])
        if tok[0] != "(":
            raise _error("unexpected_token", tok[2], tok[1])
        self.enter(tok)
        inner = self.parse_level(0)
        if self.peek()[0] != ")":
            raise _error("missing_paren", self.peek()[2])
        self.take()
        self.open -= 1
        if inner.height + 1 > MAX_DEPTH:
            raise _error("too_deep", tok[2])
        return replace(inner, height=inner.height + 1)


def parse(expr: str) -> Node:
    """Parse a rule into an AST; raises RuleSyntaxError for anything that is not a valid rule."""
    if not isinstance(expr, str):
        raise TypeError("rule expression must be a string")
    if len(expr) > MAX_LENGTH:
        raise _error("too_long", MAX_LENGTH)
    return _Parser(expr).parse()


def check_syntax(expr: str) -> RuleSyntaxError | None:
    """Return the syntax error of ``expr``, or None when it parses (for form validation)."""
    try:
        parse(expr)
    except RuleSyntaxError as exc:
        return exc
    return None


def referenced_codes(rule: str | Node) -> frozenset[str]:
    """Item codes used by a rule (string or parsed AST)."""
    stack, codes = [parse(rule) if isinstance(rule, str) else rule], set()
    while stack:
        node = stack.pop()
        if node.kind == "code":
            codes.add(node.value)
        stack.extend(node.args)
    return frozenset(codes)


def _number(v: object) -> float | None:
    """A usable value is a finite int/float; bools, strings, NaN and None count as missing."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:  # an int beyond float range cannot be a real count
        return None
    return f if math.isfinite(f) else None


def _worst(a: object, b: object) -> str:
    reasons = [x for x in (a, b) if isinstance(x, str)]
    return max(reasons, key=_REASON_RANK.__getitem__)


def _eval(node: Node, env: dict[str, float | None]) -> float | bool | str:
    """Value of ``node``: a float, a bool, or a reason string when the value is unknown."""
    if node.kind == "num":
        return node.value
    if node.kind == "code":
        v = env[node.value]
        return "missing_values" if v is None else v
    if node.kind == "neg":
        v = _eval(node.args[0], env)
        return v if isinstance(v, str) else -v
    op, a, b = node.op, _eval(node.args[0], env), _eval(node.args[1], env)
    if op == "and":  # Kleene logic: a definite False decides regardless of unknowns
        if a is False or b is False:
            return False
        return True if a is True and b is True else _worst(a, b)
    if op == "or":
        if a is True or b is True:
            return True
        return False if a is False and b is False else _worst(a, b)
    # A known zero divisor makes the result undefined whatever the dividend turns out to be.
    if op == "/" and not isinstance(b, str) and b == 0:
        return "division_by_zero"
    if isinstance(a, str) or isinstance(b, str):
        return _worst(a, b)
    if op in COMPARISONS:
        return _COMPARE[op](a, b)
    r = _ARITHMETIC[op](a, b)
    return r if math.isfinite(r) else "overflow"


def evaluate(rule: str | Node, values: Mapping[str, object] | None,
             defaults: Mapping[str, object] | None = None) -> RuleOutcome:
    """Evaluate a rule against item values (code -> number); ``defaults`` fill missing codes.

    ``missing`` lists every referenced code still absent after defaults, even when the outcome
    did not depend on it; ``reason`` comes from the unknowns that decided the outcome, ranked
    division_by_zero > overflow > missing_values.
    """
    node = parse(rule) if isinstance(rule, str) else rule
    values, defaults = values or {}, defaults or {}
    env: dict[str, float | None] = {}
    for code in referenced_codes(node):
        v = _number(values.get(code))
        env[code] = _number(defaults.get(code)) if v is None else v
    missing = sorted(code for code, v in env.items() if v is None)
    result = _eval(node, env)
    if isinstance(result, str):
        return RuleOutcome("unknown", missing, result)
    return RuleOutcome("pass" if result else "fail", missing, None)
