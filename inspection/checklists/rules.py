"""Consistency-rule language: tokenizer, recursive-descent parser and three-valued evaluator.

A rule is a comparison over checklist item codes, e.g. ``TTHC.25 + TTHC.28 == TTHC.20``.
Conditions (``relevant``) use the same language, and may also compare the unit's kind or level
with a text (``unit.kind == "Phường"``, case-insensitive); formulas (``compute``) are numeric
expressions in it (``parse(expr, want="number")``). Aggregates read repeated samples:
``count(HS)``, ``count(HS, cond)``, ``sum(HS, expr)`` and ``share(HS, cond)`` (percent of the
samples meeting ``cond``), where the codes of the group's fields (``HS.TRA``) stand for the
current sample's values: yes/no as 1/0, numbers, dates (``YYYY-MM-DD``) as days since
1970-01-01. Inside an aggregate the arguments are separated by "," (or ";", as in Excel with
Vietnamese settings); anywhere else those characters are refused. docs/checklists.md describes
the language for authors.

The same language is implemented in ``static/js/rules.js`` for the offline tablet; both follow
the same structure and are checked against ``tests/data/rules_cases.json``, so change them
together. User input is never handed to ``eval`` or ``ast``: rules are written by admins but
travel through the sync API, so the parser is the only thing that ever interprets them.

Error positions are 0-based character offsets: the start of the offending token, ``len(expr)``
for an unexpected end, 500 for an over-long rule, 0 for an empty one, the operator for type and
depth errors (or the "(" / "-" / aggregate that opens a level too deep), the first token for a
rule that is not a comparison (or a formula that is not a number), the opening quote of a text
without its closing one, the aggregate's name for a nested aggregate, the start of an
aggregate's second argument when it has the wrong type (its ")" when it is missing). Evaluation
is three-valued (see ``evaluate``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

MAX_LENGTH = 500
MAX_TOKENS = 200
MAX_DEPTH = 32
TOLERANCE = 1e-9
MAX_LITERAL = 1e15
MAX_SIGNIFICANT_DIGITS = 15

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
AGGREGATES = ("count", "sum", "share")
UNIT_NAMES = ("unit.kind", "unit.level")
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
    "unterminated_string": ("The text starting here has no closing quote",
                            "Chuỗi ký tự bắt đầu ở đây thiếu dấu nháy đóng"),
    "unknown_unit": ("Unknown unit attribute '{0}': use unit.kind or unit.level",
                     "Thuộc tính đơn vị không xác định '{0}': dùng unit.kind hoặc unit.level"),
    "func_paren": ("'{0}' must be followed by '(', e.g. {0}(HS)",
                   "Sau '{0}' phải có '(', ví dụ {0}(HS)"),
    "need_group": ("A sample group code must come first, e.g. count(HS)",
                   "Phải ghi mã nhóm mẫu trước, ví dụ count(HS)"),
    "nested_aggregate": ("'{0}' cannot be used inside another count, sum or share",
                         "Không dùng '{0}' bên trong một count, sum hoặc share khác"),
    "need_argument": ("'{0}' needs a second argument after the group: {0}(HS, …)",
                      "'{0}' cần thêm đối số thứ hai sau mã nhóm: {0}(HS, …)"),
    "agg_condition": (("'{0}' counts the samples meeting a condition: "
                       "the part after the comma must be a comparison"),
                      ("'{0}' đếm các mẫu thỏa một điều kiện: "
                       "phần sau dấu phẩy phải là phép so sánh")),
    "agg_value": ("'{0}' adds up a number per sample: the part after the comma must be a number",
                  "'{0}' cộng một số của từng mẫu: phần sau dấu phẩy phải là giá trị số"),
    "text_operand": ("'{0}' needs numbers; texts can only be compared with == or !=",
                     "'{0}' cần giá trị số; chuỗi ký tự chỉ so sánh được bằng == hoặc !="),
    "mixed_types": ("'{0}' compares a text with a number",
                    "'{0}' đang so sánh chuỗi ký tự với số"),
    "not_number": ("The formula must give a number, e.g. count(HS) or TTHC.25 - TTHC.26",
                   "Công thức phải cho ra một số, ví dụ count(HS) hoặc TTHC.25 - TTHC.26"),
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
    """AST node: kind "num" (value=float), "code" (value=str), "str" (a text), "unit" (value
    "unit.kind" or "unit.level"), "neg" or "bin" (op, args), or "agg" (op = count, sum or share,
    value = the group's code, args = its second argument if any)."""

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


@dataclass(frozen=True)
class ComputedValue:
    """Result of a formula: ``value`` is None when it cannot be computed (see ``reason``)."""

    value: float | None
    missing: list[str] = field(default_factory=list)
    reason: str | None = None

    def as_dict(self) -> dict:
        """Plain JSON-ready form, identical to what rules.js ``compute`` returns."""
        return {"value": self.value, "missing": list(self.missing), "reason": self.reason}


# Character classes are spelled out in ASCII because Python's \d and str.isdigit() accept
# non-ASCII digits that rules.js would reject; both files share these exact patterns.
_TOKEN = re.compile(r"[ \t\r\n]+|[0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*"
                    r"|[=!<>]=|[-+*/<>()]")
_WORDISH = re.compile(r"[A-Za-z0-9._]*")
# What a text between quotes may not hold: control characters, backslashes, and characters
# outside the Basic Multilingual Plane (so offsets are equal in Python and JavaScript).
_BAD_IN_TEXT = re.compile("[\x00-\x1f\x7f\\\\\ud800-\udfff\U00010000-\U0010ffff]")


def _tokenize(src: str) -> list[tuple[str, str, int]]:
    """Split ``src`` into (type, text, position) tuples ending with an "end" token."""
    tokens: list[tuple[str, str, int]] = []
    calls: list[bool] = []  # open parentheses: True for an aggregate's own
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if m and m.group()[0] in " \t\r\n":
            i = m.end()
            continue
        if len(tokens) >= MAX_TOKENS:
            raise _error("too_many_tokens", i)
        if src[i] in "\"'":
            end = src.find(src[i], i + 1)
            if end < 0:
                raise _error("unterminated_string", i)
            bad = _BAD_IN_TEXT.search(src, i + 1, end)
            if bad:
                raise _error("bad_char", bad.start(), bad.group())
            tokens.append(("str", src[i + 1:end], i))
            i = end + 1
            continue
        if src[i] in ",;" and calls and calls[-1]:
            tokens.append((",", src[i], i))
            i += 1
            continue
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
            elif text.startswith("unit."):
                if text not in UNIT_NAMES:
                    raise _error("unknown_unit", start, text)
                kind = "unit"
            elif "." in text:
                kind = "code"
            elif text in AGGREGATES:
                kind = "func"
            elif len(tokens) >= 2 and tokens[-1][0] == "(" and tokens[-2][0] == "func":
                kind = "group"  # the first argument of an aggregate: a bare group code
            else:
                raise _error("unknown_name", start, text)
        elif kind == "(":
            calls.append(bool(tokens) and tokens[-1][0] == "func")
        elif kind == ")" and calls:
            calls.pop()
        tokens.append((kind, text, start))
    tokens.append(("end", "", len(src)))
    return tokens


def _type(node: Node) -> str:
    """The static type of a node: "num", "bool" or "text"."""
    if node.kind in ("str", "unit"):
        return "text"
    if node.kind == "bin" and (node.op in COMPARISONS or node.op in ("and", "or")):
        return "bool"
    return "num"


def _is_bool(node: Node) -> bool:
    return _type(node) == "bool"


# Binary operators from loosest to tightest binding; comparisons are non-associative.
_LEVELS = (("or",), ("and",), COMPARISONS, ("+", "-"), ("*", "/"))


class _Parser:
    """Recursive descent: one generic loop per precedence level, then unary minus and atoms."""

    def __init__(self, src: str) -> None:
        self.tokens = _tokenize(src)
        self.i = 0
        self.open = 0  # enclosing "(", unary "-" and aggregates: bounds recursion beforehand
        self.in_aggregate = False

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
        types = {_type(a) for a in args}
        if "text" in types:
            if op not in ("==", "!="):
                raise _error("text_operand", pos, op)
            if types != {"text"}:
                raise _error("mixed_types", pos, op)
        height = 1 + max(a.height for a in args)
        if height > MAX_DEPTH:
            raise _error("too_deep", pos)
        return Node("bin" if len(args) == 2 else "neg", pos, op=op, args=args, height=height)

    def parse(self, want: str) -> Node:
        first = self.peek()
        if first[0] == "end":
            raise _error("empty", 0)
        node = self.parse_level(0)
        tok = self.peek()
        if tok[0] != "end":
            raise _error("unexpected_token", tok[2], tok[1])
        if want == "bool" and not _is_bool(node):
            raise _error("not_comparison", first[2])
        if want == "number" and _type(node) != "num":
            raise _error("not_number", first[2])
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
        if tok[0] == "str":
            return Node("str", tok[2], value=tok[1])
        if tok[0] == "unit":
            return Node("unit", tok[2], value=tok[1])
        if tok[0] == "func":
            return self.parse_aggregate(tok)
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

    def parse_aggregate(self, func: tuple[str, str, int]) -> Node:
        """``count(G)``, ``count(G, cond)``, ``sum(G, expr)``, ``share(G, cond)``."""
        name, pos = func[1], func[2]
        if self.peek()[0] != "(":
            raise _error("func_paren", pos, name)
        if self.in_aggregate:
            raise _error("nested_aggregate", pos, name)
        self.enter(func)
        self.take()
        group = self.take()
        if group[0] == "end":
            raise _error("unexpected_end", group[2])
        if group[0] != "group":
            raise _error("need_group", group[2])
        args: tuple[Node, ...] = ()
        if self.peek()[0] == ",":
            self.take()
            start = self.peek()[2]
            self.in_aggregate = True
            arg = self.parse_level(0)
            self.in_aggregate = False
            if name == "sum" and _type(arg) != "num":
                raise _error("agg_value", start, name)
            if name != "sum" and not _is_bool(arg):
                raise _error("agg_condition", start, name)
            args = (arg,)
        if self.peek()[0] != ")":
            raise _error("missing_paren", self.peek()[2])
        if name != "count" and not args:
            raise _error("need_argument", self.peek()[2], name)
        self.take()
        self.open -= 1
        height = 1 + (args[0].height if args else 0)
        if height > MAX_DEPTH:
            raise _error("too_deep", pos)
        return Node("agg", pos, value=group[1], op=name, args=args, height=height)


def parse(expr: str, want: str = "bool") -> Node:
    """Parse a rule or condition (``want="bool"``) or a formula (``want="number"``) into an AST;
    raises RuleSyntaxError for anything else."""
    if not isinstance(expr, str):
        raise TypeError("rule expression must be a string")
    if want not in ("bool", "number"):
        raise ValueError(f"want must be 'bool' or 'number', not {want!r}")
    if len(expr) > MAX_LENGTH:
        raise _error("too_long", MAX_LENGTH)
    return _Parser(expr).parse(want)


def check_syntax(expr: str, want: str = "bool") -> RuleSyntaxError | None:
    """Return the syntax error of ``expr``, or None when it parses (for form validation)."""
    try:
        parse(expr, want)
    except RuleSyntaxError as exc:
        return exc
    return None


def _walk(node: Node, group: str | None = None):
    """Every node with the aggregate group it sits in (None outside aggregates)."""
    stack = [(node, group)]
    while stack:
        current, inside = stack.pop()
        yield current, inside
        if current.kind == "agg":
            stack.extend((arg, current.value) for arg in current.args)
        else:
            stack.extend((arg, inside) for arg in current.args)


def _in_group(code: str, group: str | None) -> bool:
    """Whether ``code`` names a field of ``group`` (``HS.TRA`` of ``HS``)."""
    return group is not None and code.split(".", 1)[0] == group


def referenced_codes(rule: str | Node) -> frozenset[str]:
    """Item and sample-field codes used by a rule (string or parsed AST)."""
    node = parse(rule) if isinstance(rule, str) else rule
    return frozenset(n.value for n, _ in _walk(node) if n.kind == "code")


@dataclass(frozen=True)
class References:
    """What an expression reads: item codes, sample groups with the field codes read in each
    (only codes of that group), and unit attributes."""

    codes: frozenset[str]
    groups: Mapping[str, frozenset[str]]
    unit: frozenset[str]


def references(rule: str | Node, want: str = "bool") -> References:
    """Split what an expression reads into item codes, sample fields per group and unit names."""
    node = parse(rule, want) if isinstance(rule, str) else rule
    codes: set[str] = set()
    groups: dict[str, set[str]] = {}
    unit: set[str] = set()
    for current, inside in _walk(node):
        if current.kind == "agg":
            groups.setdefault(current.value, set())
        elif current.kind == "unit":
            unit.add(current.value)
        elif current.kind == "code":
            if _in_group(current.value, inside):
                groups.setdefault(inside, set()).add(current.value)
            else:
                codes.add(current.value)
    return References(frozenset(codes), {g: frozenset(f) for g, f in groups.items()},
                      frozenset(unit))


def _number(v: object) -> float | None:
    """A usable value is a finite int/float; bools, strings, NaN and None count as missing."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:  # an int beyond float range cannot be a real count
        return None
    return f if math.isfinite(f) else None


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (integer arithmetic, as rules.js)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def sample_number(v: object) -> float | None:
    """A sample field's value as a number: yes/no as 1/0, a number, a date ``YYYY-MM-DD`` as days
    since 1970-01-01; anything else (text, an impossible date, NaN) counts as missing."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, str):
        m = _ISO_DATE.fullmatch(v)
        if not m:
            return None
        year, month, day = (int(g) for g in m.groups())
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        if year < 1 or not 1 <= month <= 12 \
                or not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
            return None
        return float(days_from_civil(year, month, day))
    return _number(v)


def _text(v: object) -> str | None:
    """A unit attribute as a comparable text: NFC, lower case; non-texts count as missing."""
    return unicodedata.normalize("NFC", v).lower() if isinstance(v, str) else None


class _Unknown:
    """An unknown value, with the reason it is unknown."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _worst(*values: object) -> _Unknown:
    reasons = [x.reason for x in values if isinstance(x, _Unknown)]
    return _Unknown(max(reasons, key=_REASON_RANK.__getitem__))


@dataclass
class _Env:
    """What an expression is evaluated against."""

    values: dict[str, float | None]
    unit: dict[str, str | None]
    samples: dict[str, list[Mapping]]
    group: str | None = None  # the aggregate being evaluated, and its current sample
    sample: Mapping | None = None


def _eval(node: Node, env: _Env) -> float | bool | str | _Unknown:
    """Value of ``node``: a float, a bool, a text, or an _Unknown when it cannot be known."""
    if node.kind in ("num", "str"):
        return node.value
    if node.kind == "unit":
        v = env.unit[node.value]
        return _Unknown("missing_values") if v is None else v
    if node.kind == "code":
        if _in_group(node.value, env.group):
            v = sample_number(env.sample.get(node.value))
        else:
            v = env.values[node.value]
        return _Unknown("missing_values") if v is None else v
    if node.kind == "neg":
        v = _eval(node.args[0], env)
        return v if isinstance(v, _Unknown) else -v
    if node.kind == "agg":
        return _aggregate(node, env)
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
    if op == "/" and not isinstance(b, _Unknown) and b == 0:
        return _Unknown("division_by_zero")
    if isinstance(a, _Unknown) or isinstance(b, _Unknown):
        return _worst(a, b)
    if isinstance(a, str):  # texts: only == and != (checked by the parser)
        return (_text(a) == _text(b)) == (op == "==")
    if op in COMPARISONS:
        return _COMPARE[op](a, b)
    r = _ARITHMETIC[op](a, b)
    return r if math.isfinite(r) else _Unknown("overflow")


def _aggregate(node: Node, env: _Env) -> float | _Unknown:
    """count / sum / share over the samples of one group, in their order."""
    samples = env.samples.get(node.value, [])
    if not node.args:
        return float(len(samples))
    if node.op == "share" and not samples:
        return _Unknown("division_by_zero")
    results = []
    for sample in samples:
        results.append(_eval(node.args[0], replace(env, group=node.value, sample=sample)))
    if any(isinstance(r, _Unknown) for r in results):
        return _worst(*results)
    if node.op == "sum":
        total = 0.0
        for r in results:
            total += r
        return total if math.isfinite(total) else _Unknown("overflow")
    met = float(sum(1 for r in results if r is True))
    return met if node.op == "count" else 100 * met / len(samples)


def _samples_of(samples: Mapping | None, group: str) -> list[Mapping]:
    """The samples of one group; anything that is not a list of objects counts as empty
    objects (a sample that is not an object has every field missing)."""
    found = samples.get(group) if isinstance(samples, Mapping) else None
    if not isinstance(found, list):
        return []
    return [s if isinstance(s, Mapping) else {} for s in found]


def _prepare(node: Node, values: Mapping | None, defaults: Mapping | None,
             unit: Mapping | None, samples: Mapping | None) -> tuple[_Env, list[str]]:
    """The environment of an expression and the codes it reads that have no value."""
    values, defaults = values or {}, defaults or {}
    refs = references(node)
    env_values: dict[str, float | None] = {}
    for code in refs.codes:
        v = _number(values.get(code))
        env_values[code] = _number(defaults.get(code)) if v is None else v
    missing = {code for code, v in env_values.items() if v is None}
    env_unit = {}
    for name in refs.unit:
        attr = name.split(".", 1)[1]
        env_unit[name] = _text(unit.get(attr)) if isinstance(unit, Mapping) else None
        if env_unit[name] is None:
            missing.add(name)
    env_samples = {}
    for group, fields in refs.groups.items():
        env_samples[group] = _samples_of(samples, group)
        for code in fields:
            if any(sample_number(s.get(code)) is None for s in env_samples[group]):
                missing.add(code)
    return _Env(env_values, env_unit, env_samples), sorted(missing)


def evaluate(rule: str | Node, values: Mapping[str, object] | None,
             defaults: Mapping[str, object] | None = None, *, unit: Mapping | None = None,
             samples: Mapping | None = None) -> RuleOutcome:
    """Evaluate a rule or condition against item values (code -> number); ``defaults`` fill
    missing codes; ``unit`` gives ``kind`` and ``level``; ``samples`` maps a group's code to its
    samples (lists of field code -> value).

    ``missing`` lists every referenced code still absent after defaults (and every field some
    sample lacks), even when the outcome did not depend on it; ``reason`` comes from the unknowns
    that decided the outcome, ranked division_by_zero > overflow > missing_values.
    """
    node = parse(rule) if isinstance(rule, str) else rule
    env, missing = _prepare(node, values, defaults, unit, samples)
    result = _eval(node, env)
    if isinstance(result, _Unknown):
        return RuleOutcome("unknown", missing, result.reason)
    return RuleOutcome("pass" if result else "fail", missing, None)


def compute(formula: str | Node, values: Mapping[str, object] | None,
            defaults: Mapping[str, object] | None = None, *, unit: Mapping | None = None,
            samples: Mapping | None = None) -> ComputedValue:
    """Evaluate a numeric formula (a computed count) like ``evaluate`` evaluates a rule."""
    node = parse(formula, "number") if isinstance(formula, str) else formula
    env, missing = _prepare(node, values, defaults, unit, samples)
    result = _eval(node, env)
    if isinstance(result, _Unknown):
        return ComputedValue(None, missing, result.reason)
    return ComputedValue(result, missing, None)
