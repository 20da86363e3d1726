// Consistency-rule language: tokenizer, recursive-descent parser and three-valued evaluator.
//
// A rule is a comparison over checklist item codes, e.g. `TTHC.25 + TTHC.28 == TTHC.20`.
// This is the offline (tablet) twin of inspection/services/rules.py: same structure, same
// messages, same results, both checked against tests/data/rules_cases.json — change them
// together. Rules arrive through sync, so nothing here ever uses eval or Function.
//
// Error positions are 0-based offsets in code points (equal to string indexes for the ASCII
// the grammar accepts): see rules.py for the exact definition, which both files share.

export const MAX_LENGTH = 500;
export const MAX_TOKENS = 200;
export const MAX_DEPTH = 32;
export const TOLERANCE = 1e-9;
export const MAX_LITERAL = 1e15;
export const MAX_SIGNIFICANT_DIGITS = 15;

export const COMPARISONS = ["==", "!=", "<=", ">=", "<", ">"];
// Counts typed on a tablet pass through decimal fractions (0.1 + 0.2), so compare with slack.
const COMPARE = {
  "==": (a, b) => Math.abs(a - b) <= TOLERANCE,
  "!=": (a, b) => Math.abs(a - b) > TOLERANCE,
  "<": (a, b) => b - a > TOLERANCE,
  "<=": (a, b) => a - b <= TOLERANCE,
  ">": (a, b) => a - b > TOLERANCE,
  ">=": (a, b) => b - a <= TOLERANCE,
};
const ARITHMETIC = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
};
// Unknown results carry their reason; the highest rank wins when unknowns combine.
const REASON_RANK = { missing_values: 1, overflow: 2, division_by_zero: 3 };

const MESSAGES = { // key: [English, Vietnamese]; "{0}" is the offending text
  empty: ["The rule is empty", "Quy tắc đang để trống"],
  too_long: [`The rule is longer than ${MAX_LENGTH} characters`,
    `Quy tắc dài quá ${MAX_LENGTH} ký tự`],
  too_many_tokens: [`The rule has more than ${MAX_TOKENS} parts`,
    `Quy tắc có quá ${MAX_TOKENS} thành phần`],
  too_deep: [`The rule is nested more than ${MAX_DEPTH} levels deep`,
    `Quy tắc lồng nhau quá ${MAX_DEPTH} cấp`],
  bad_char: ["Unexpected character '{0}'", "Ký tự không hợp lệ '{0}'"],
  single_equals: ["Use '==' to test equality", "Dùng '==' để so sánh bằng"],
  bad_number: ["Invalid number '{0}': use plain decimals such as 12 or 3.5",
    "Số không hợp lệ '{0}': chỉ dùng số thập phân như 12 hoặc 3.5"],
  number_too_big: ["Number '{0}' has more than 15 significant digits or exceeds 1e15",
    "Số '{0}' có quá 15 chữ số có nghĩa hoặc vượt quá 1e15"],
  bad_code: ["Malformed item code '{0}'", "Mã chỉ tiêu không đúng dạng '{0}'"],
  unknown_name: ["Unknown name '{0}': item codes look like TTHC.20",
    "Tên không xác định '{0}': mã chỉ tiêu có dạng TTHC.20"],
  unexpected_end: ["The rule ends unexpectedly", "Quy tắc kết thúc khi chưa đầy đủ"],
  unexpected_token: ["Unexpected '{0}'", "Không thể có '{0}' ở vị trí này"],
  missing_paren: ["Missing ')'", "Thiếu dấu ')'"],
  chained: ["Comparisons cannot be chained: join them with 'and'",
    "Không được viết liền các phép so sánh: hãy nối bằng 'and'"],
  not_comparison: ["The rule must be a comparison, e.g. TTHC.21 <= TTHC.20",
    "Quy tắc phải là một phép so sánh, ví dụ TTHC.21 <= TTHC.20"],
  need_bool: ["'{0}' needs a comparison on each side", "'{0}' cần một phép so sánh ở mỗi vế"],
  need_number: ["'{0}' needs numbers, not comparisons",
    "'{0}' cần giá trị số, không phải phép so sánh"],
};

/** A rule that cannot be parsed; `position` is the 0-based offset of the offending token. */
export class RuleSyntaxError extends Error {
  constructor(messageEn, position, messageVi = messageEn, code = "syntax") {
    super(`${messageEn} (at character ${position})`);
    this.name = "RuleSyntaxError";
    this.messageEn = messageEn;
    this.messageVi = messageVi;
    this.position = position;
    this.code = code;
  }
}

function error(key, position, text = "") {
  const [en, vi] = MESSAGES[key];
  // A replacer function keeps "$&"-style patterns in user text from being expanded.
  const fill = (template) => template.replace("{0}", () => text);
  return new RuleSyntaxError(fill(en), position, fill(vi), key);
}

// Character classes are spelled out in ASCII to match rules.py exactly (Python's \d is Unicode).
const TOKEN = new RegExp(String.raw`[ \t\r\n]+|[0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*`
  + String.raw`|[=!<>]=|[-+*/<>()]`, "y");
const WORDISH = /[A-Za-z0-9._]*/y;

function matchAt(re, src, i) {
  re.lastIndex = i;
  const m = re.exec(src);
  return m && m[0];
}

/** Split `src` into {type, text, pos} tokens ending with an "end" token. */
function tokenize(src) {
  const tokens = [];
  let i = 0;
  while (i < src.length) {
    const text = matchAt(TOKEN, src, i);
    if (text && " \t\r\n".includes(text[0])) {
      i += text.length;
      continue;
    }
    if (tokens.length >= MAX_TOKENS) throw error("too_many_tokens", i);
    if (!text) {
      // Quote the whole code point so an emoji is not shown as half a surrogate pair.
      const ch = String.fromCodePoint(src.codePointAt(i));
      throw error(ch === "=" ? "single_equals" : "bad_char", i, ch);
    }
    const start = i;
    i += text.length;
    let type = text[0] >= "0" && text[0] <= "9" ? "num" : /[A-Za-z]/.test(text[0]) ? "word" : text;
    // "1e5", "0x1F", "5.", "TTHC.", "TT_01": refuse the whole run rather than split it.
    if ((type === "num" || type === "word") && matchAt(WORDISH, src, i)) {
      const bad = matchAt(WORDISH, src, start);
      throw error(type === "num" ? "bad_number" : "bad_code", start, bad);
    }
    if (type === "num" && (text.replace(".", "").replace(/^0+|0+$/g, "").length
                           > MAX_SIGNIFICANT_DIGITS || Number(text) > MAX_LITERAL)) {
      throw error("number_too_big", start, text);
    }
    if (type === "word") {
      if (text === "and" || text === "or") type = text;
      else if (text.includes(".")) type = "code";
      else throw error("unknown_name", start, text);
    }
    tokens.push({ type, text, pos: start });
  }
  tokens.push({ type: "end", text: "", pos: src.length });
  return tokens;
}

function isBool(node) {
  return node.kind === "bin"
    && (COMPARISONS.includes(node.op) || node.op === "and" || node.op === "or");
}

// Binary operators from loosest to tightest binding; comparisons are non-associative.
const LEVELS = [["or"], ["and"], COMPARISONS, ["+", "-"], ["*", "/"]];

/** Recursive descent: one generic loop per precedence level, then unary minus and atoms. */
class Parser {
  constructor(src) {
    this.tokens = tokenize(src);
    this.i = 0;
    this.open = 0; // enclosing "(" and unary "-": bounds recursion before it happens
  }

  peek() { return this.tokens[this.i]; }

  take() { return this.tokens[this.i++]; }

  enter(tok) {
    if (this.open >= MAX_DEPTH) throw error("too_deep", tok.pos);
    this.open += 1;
  }

  make(op, args, pos) {
    // Types are checked here so a rule like "1 and 2" never reaches an evaluator.
    const wantsBool = op === "and" || op === "or";
    if (args.some((a) => isBool(a) !== wantsBool)) {
      throw error(wantsBool ? "need_bool" : "need_number", pos, op);
    }
    const height = 1 + Math.max(...args.map((a) => a.height));
    if (height > MAX_DEPTH) throw error("too_deep", pos);
    return { kind: args.length === 2 ? "bin" : "neg", pos, value: null, op, args, height };
  }

  parse() {
    const first = this.peek();
    if (first.type === "end") throw error("empty", 0);
    const node = this.parseLevel(0);
    const tok = this.peek();
    if (tok.type !== "end") throw error("unexpected_token", tok.pos, tok.text);
    if (!isBool(node)) throw error("not_comparison", first.pos);
    return node;
  }

  parseLevel(level) {
    if (level === LEVELS.length) return this.parseUnary();
    let node = this.parseLevel(level + 1);
    while (LEVELS[level].includes(this.peek().type)) {
      const op = this.take();
      node = this.make(op.type, [node, this.parseLevel(level + 1)], op.pos);
      if (LEVELS[level] === COMPARISONS && COMPARISONS.includes(this.peek().type)) {
        throw error("chained", this.peek().pos);
      }
    }
    return node;
  }

  parseUnary() {
    const tok = this.take();
    if (tok.type === "-") {
      this.enter(tok);
      const operand = this.parseUnary();
      this.open -= 1;
      return this.make("-", [operand], tok.pos);
    }
    if (tok.type === "num") return leaf("num", tok.pos, Number(tok.text));
    if (tok.type === "code") return leaf("code", tok.pos, tok.text);
    if (tok.type === "end") throw error("unexpected_end", tok.pos);
    if (tok.type !== "(") throw error("unexpected_token", tok.pos, tok.text);
    this.enter(tok);
    const inner = this.parseLevel(0);
    if (this.peek().type !== ")") throw error("missing_paren", this.peek().pos);
    this.take();
    this.open -= 1;
    if (inner.height + 1 > MAX_DEPTH) throw error("too_deep", tok.pos);
    return { ...inner, height: inner.height + 1 };
  }
}

function leaf(kind, pos, value) {
  return { kind, pos, value, op: null, args: [], height: 1 };
}

/** Parse a rule into an AST; throws RuleSyntaxError for anything that is not a valid rule. */
export function parse(expr) {
  if (typeof expr !== "string") throw new TypeError("rule expression must be a string");
  // Count code points, not UTF-16 units, so the limit matches Python's len().
  let length = 0;
  for (const _ of expr) if (++length > MAX_LENGTH) throw error("too_long", MAX_LENGTH);
  return new Parser(expr).parse();
}

/** Return the syntax error of `expr`, or null when it parses (for form validation). */
export function checkSyntax(expr) {
  try {
    parse(expr);
    return null;
  } catch (exc) {
    if (exc instanceof RuleSyntaxError) return exc;
    throw exc;
  }
}

/** Item codes used by a rule (string or parsed AST), sorted. */
export function referencedCodes(rule) {
  const stack = [typeof rule === "string" ? parse(rule) : rule];
  const codes = new Set();
  while (stack.length) {
    const node = stack.pop();
    if (node.kind === "code") codes.add(node.value);
    stack.push(...node.args);
  }
  return [...codes].sort();
}

/** A usable value is a finite number; booleans, strings, NaN and null count as missing. */
function number(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function lookup(map, code) {
  if (map instanceof Map) return map.get(code);
  // Own properties only: "constructor" and friends must not leak in from the prototype.
  return map != null && Object.prototype.hasOwnProperty.call(map, code) ? map[code] : undefined;
}

function worst(a, b) {
  const reasons = [a, b].filter((x) => typeof x === "string");
  return reasons.reduce((x, y) => (REASON_RANK[y] > REASON_RANK[x] ? y : x));
}

/** Value of `node`: a number, a boolean, or a reason string when the value is unknown. */
function evalNode(node, env) {
  if (node.kind === "num") return node.value;
  if (node.kind === "code") {
    const v = env.get(node.value);
    return v === null ? "missing_values" : v;
  }
  if (node.kind === "neg") {
    const v = evalNode(node.args[0], env);
    return typeof v === "string" ? v : -v;
  }
  const op = node.op;
  const a = evalNode(node.args[0], env);
  const b = evalNode(node.args[1], env);
  if (op === "and") { // Kleene logic: a definite false decides regardless of unknowns
    if (a === false || b === false) return false;
    return a === true && b === true ? true : worst(a, b);
  }
  if (op === "or") {
    if (a === true || b === true) return true;
    return a === false && b === false ? false : worst(a, b);
  }
  // A known zero divisor makes the result undefined whatever the dividend turns out to be.
  if (op === "/" && typeof b !== "string" && b === 0) return "division_by_zero";
  if (typeof a === "string" || typeof b === "string") return worst(a, b);
  if (COMPARISONS.includes(op)) return COMPARE[op](a, b);
  const r = ARITHMETIC[op](a, b);
  return Number.isFinite(r) ? r : "overflow";
}

/**
 * Evaluate a rule against item values (object or Map, code -> number); `defaults` fill missing
 * codes. Returns {status, missing, reason} exactly like RuleOutcome.as_dict() in rules.py.
 */
export function evaluate(rule, values, defaults = {}) {
  const node = typeof rule === "string" ? parse(rule) : rule;
  const env = new Map();
  for (const code of referencedCodes(node)) {
    const v = number(lookup(values, code));
    env.set(code, v === null ? number(lookup(defaults, code)) : v);
  }
  const missing = [...env.keys()].filter((code) => env.get(code) === null); // already sorted
  const result = evalNode(node, env);
  if (typeof result === "string") return { status: "unknown", missing, reason: result };
  return { status: result ? "pass" : "fail", missing, reason: null };
}
