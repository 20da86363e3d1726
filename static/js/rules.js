// Consistency-rule language: tokenizer, recursive-descent parser and three-valued evaluator.
//
// A rule is a comparison over checklist item codes, e.g. `TTHC.25 + TTHC.28 == TTHC.20`.
// Conditions (`relevant`) use the same language and may compare the unit's kind or level with a
// text (`unit.kind == "Phường"`); formulas (`compute`) are numeric (`parse(expr, "number")`);
// aggregates read repeated samples: count(HS), count(HS, cond), sum(HS, expr), share(HS, cond).
// This is the offline (tablet) twin of inspection/checklists/rules.py: same structure, same
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
export const AGGREGATES = ["count", "sum", "share"];
export const UNIT_NAMES = ["unit.kind", "unit.level"];
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
  unterminated_string: ["The text starting here has no closing quote",
    "Chuỗi ký tự bắt đầu ở đây thiếu dấu nháy đóng"],
  unknown_unit: ["Unknown unit attribute '{0}': use unit.kind or unit.level",
    "Thuộc tính đơn vị không xác định '{0}': dùng unit.kind hoặc unit.level"],
  func_paren: ["'{0}' must be followed by '(', e.g. {0}(HS)", "Sau '{0}' phải có '(', ví dụ {0}(HS)"],
  need_group: ["A sample group code must come first, e.g. count(HS)",
    "Phải ghi mã nhóm mẫu trước, ví dụ count(HS)"],
  nested_aggregate: ["'{0}' cannot be used inside another count, sum or share",
    "Không dùng '{0}' bên trong một count, sum hoặc share khác"],
  need_argument: ["'{0}' needs a second argument after the group: {0}(HS, …)",
    "'{0}' cần thêm đối số thứ hai sau mã nhóm: {0}(HS, …)"],
  agg_condition: ["'{0}' counts the samples meeting a condition: "
    + "the part after the comma must be a comparison",
  "'{0}' đếm các mẫu thỏa một điều kiện: phần sau dấu phẩy phải là phép so sánh"],
  agg_value: ["'{0}' adds up a number per sample: the part after the comma must be a number",
    "'{0}' cộng một số của từng mẫu: phần sau dấu phẩy phải là giá trị số"],
  text_operand: ["'{0}' needs numbers; texts can only be compared with == or !=",
    "'{0}' cần giá trị số; chuỗi ký tự chỉ so sánh được bằng == hoặc !="],
  mixed_types: ["'{0}' compares a text with a number", "'{0}' đang so sánh chuỗi ký tự với số"],
  not_number: ["The formula must give a number, e.g. count(HS) or TTHC.25 - TTHC.26",
    "Công thức phải cho ra một số, ví dụ count(HS) hoặc TTHC.25 - TTHC.26"],
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
  const fill = (template) => template.replaceAll("{0}", () => text);
  return new RuleSyntaxError(fill(en), position, fill(vi), key);
}

// Character classes are spelled out in ASCII to match rules.py exactly (Python's \d is Unicode).
const TOKEN = new RegExp(String.raw`[ \t\r\n]+|[0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*`
  + String.raw`|[=!<>]=|[-+*/<>()]`, "y");
const WORDISH = /[A-Za-z0-9._]*/y;
// What a text between quotes may not hold: control characters, backslashes, and characters
// outside the Basic Multilingual Plane (surrogates here), so offsets equal Python's.
const BAD_IN_TEXT = /[\x00-\x1f\x7f\\\uD800-\uDFFF]/;

function matchAt(re, src, i) {
  re.lastIndex = i;
  const m = re.exec(src);
  return m && m[0];
}

/** Split `src` into {type, text, pos} tokens ending with an "end" token. */
function tokenize(src) {
  const tokens = [];
  const calls = []; // open parentheses: true for an aggregate's own
  let i = 0;
  while (i < src.length) {
    const text = matchAt(TOKEN, src, i);
    if (text && " \t\r\n".includes(text[0])) {
      i += text.length;
      continue;
    }
    if (tokens.length >= MAX_TOKENS) throw error("too_many_tokens", i);
    if (src[i] === '"' || src[i] === "'") {
      const end = src.indexOf(src[i], i + 1);
      if (end < 0) throw error("unterminated_string", i);
      const content = src.slice(i + 1, end);
      const bad = content.search(BAD_IN_TEXT);
      if (bad >= 0) {
        const at = i + 1 + bad;
        throw error("bad_char", at, String.fromCodePoint(src.codePointAt(at)));
      }
      tokens.push({ type: "str", text: content, pos: i });
      i = end + 1;
      continue;
    }
    if ((src[i] === "," || src[i] === ";") && calls.length && calls[calls.length - 1]) {
      tokens.push({ type: ",", text: src[i], pos: i });
      i += 1;
      continue;
    }
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
      const n = tokens.length;
      if (text === "and" || text === "or") type = text;
      else if (text.startsWith("unit.")) {
        if (!UNIT_NAMES.includes(text)) throw error("unknown_unit", start, text);
        type = "unit";
      } else if (text.includes(".")) type = "code";
      else if (AGGREGATES.includes(text)) type = "func";
      else if (n >= 2 && tokens[n - 1].type === "(" && tokens[n - 2].type === "func") {
        type = "group"; // the first argument of an aggregate: a bare group code
      } else throw error("unknown_name", start, text);
    } else if (type === "(") {
      calls.push(tokens.length > 0 && tokens[tokens.length - 1].type === "func");
    } else if (type === ")" && calls.length) {
      calls.pop();
    }
    tokens.push({ type, text, pos: start });
  }
  tokens.push({ type: "end", text: "", pos: src.length });
  return tokens;
}

/** The static type of a node: "num", "bool" or "text". */
function typeOf(node) {
  if (node.kind === "str" || node.kind === "unit") return "text";
  if (node.kind === "bin" && (COMPARISONS.includes(node.op) || node.op === "and" || node.op === "or")) {
    return "bool";
  }
  return "num";
}

function isBool(node) {
  return typeOf(node) === "bool";
}

// Binary operators from loosest to tightest binding; comparisons are non-associative.
const LEVELS = [["or"], ["and"], COMPARISONS, ["+", "-"], ["*", "/"]];

/** Recursive descent: one generic loop per precedence level, then unary minus and atoms. */
class Parser {
  constructor(src) {
    this.tokens = tokenize(src);
    this.i = 0;
    this.open = 0; // enclosing "(", unary "-" and aggregates: bounds recursion beforehand
    this.inAggregate = false;
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
    const types = new Set(args.map(typeOf));
    if (types.has("text")) {
      if (op !== "==" && op !== "!=") throw error("text_operand", pos, op);
      if (types.size !== 1) throw error("mixed_types", pos, op);
    }
    const height = 1 + Math.max(...args.map((a) => a.height));
    if (height > MAX_DEPTH) throw error("too_deep", pos);
    return { kind: args.length === 2 ? "bin" : "neg", pos, value: null, op, args, height };
  }

  parse(want) {
    const first = this.peek();
    if (first.type === "end") throw error("empty", 0);
    const node = this.parseLevel(0);
    const tok = this.peek();
    if (tok.type !== "end") throw error("unexpected_token", tok.pos, tok.text);
    if (want === "bool" && !isBool(node)) throw error("not_comparison", first.pos);
    if (want === "number" && typeOf(node) !== "num") throw error("not_number", first.pos);
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
    if (tok.type === "str") return leaf("str", tok.pos, tok.text);
    if (tok.type === "unit") return leaf("unit", tok.pos, tok.text);
    if (tok.type === "func") return this.parseAggregate(tok);
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

  /** count(G), count(G, cond), sum(G, expr), share(G, cond). */
  parseAggregate(func) {
    const name = func.text;
    if (this.peek().type !== "(") throw error("func_paren", func.pos, name);
    if (this.inAggregate) throw error("nested_aggregate", func.pos, name);
    this.enter(func);
    this.take();
    const group = this.take();
    if (group.type === "end") throw error("unexpected_end", group.pos);
    if (group.type !== "group") throw error("need_group", group.pos);
    let args = [];
    if (this.peek().type === ",") {
      this.take();
      const start = this.peek().pos;
      this.inAggregate = true;
      const arg = this.parseLevel(0);
      this.inAggregate = false;
      if (name === "sum" && typeOf(arg) !== "num") throw error("agg_value", start, name);
      if (name !== "sum" && !isBool(arg)) throw error("agg_condition", start, name);
      args = [arg];
    }
    if (this.peek().type !== ")") throw error("missing_paren", this.peek().pos);
    if (name !== "count" && !args.length) throw error("need_argument", this.peek().pos, name);
    this.take();
    this.open -= 1;
    const height = 1 + (args.length ? args[0].height : 0);
    if (height > MAX_DEPTH) throw error("too_deep", func.pos);
    return { kind: "agg", pos: func.pos, value: group.text, op: name, args, height };
  }
}

function leaf(kind, pos, value) {
  return { kind, pos, value, op: null, args: [], height: 1 };
}

/**
 * Parse a rule or condition (want "bool") or a formula (want "number") into an AST; throws
 * RuleSyntaxError for anything else.
 */
export function parse(expr, want = "bool") {
  if (typeof expr !== "string") throw new TypeError("rule expression must be a string");
  if (want !== "bool" && want !== "number") throw new TypeError(`want must be "bool" or "number"`);
  // Count code points, not UTF-16 units, so the limit matches Python's len().
  let length = 0;
  for (const _ of expr) if (++length > MAX_LENGTH) throw error("too_long", MAX_LENGTH);
  return new Parser(expr).parse(want);
}

/** Return the syntax error of `expr`, or null when it parses (for form validation). */
export function checkSyntax(expr, want = "bool") {
  try {
    parse(expr, want);
    return null;
  } catch (exc) {
    if (exc instanceof RuleSyntaxError) return exc;
    throw exc;
  }
}

/** Every node with the aggregate group it sits in (null outside aggregates). */
function walk(root) {
  const out = [];
  const stack = [[root, null]];
  while (stack.length) {
    const [node, inside] = stack.pop();
    out.push([node, inside]);
    const group = node.kind === "agg" ? node.value : inside;
    for (const arg of node.args) stack.push([arg, group]);
  }
  return out;
}

/** Whether `code` names a field of `group` (HS.TRA of HS). */
function inGroup(code, group) {
  return group !== null && code.split(".", 1)[0] === group;
}

/** Item and sample-field codes used by a rule (string or parsed AST), sorted. */
export function referencedCodes(rule) {
  const node = typeof rule === "string" ? parse(rule) : rule;
  const codes = new Set(walk(node).filter(([n]) => n.kind === "code").map(([n]) => n.value));
  return [...codes].sort();
}

/**
 * What an expression reads: {codes (item codes, sorted), groups (group -> sorted field codes),
 * unit (sorted names)}, like rules.references.
 */
export function references(rule, want = "bool") {
  const node = typeof rule === "string" ? parse(rule, want) : rule;
  const codes = new Set();
  const groups = new Map();
  const unit = new Set();
  for (const [n, inside] of walk(node)) {
    if (n.kind === "agg") {
      if (!groups.has(n.value)) groups.set(n.value, new Set());
    } else if (n.kind === "unit") unit.add(n.value);
    else if (n.kind === "code") {
      if (inGroup(n.value, inside)) {
        if (!groups.has(inside)) groups.set(inside, new Set());
        groups.get(inside).add(n.value);
      } else codes.add(n.value);
    }
  }
  return {
    codes: [...codes].sort(),
    groups: new Map([...groups].map(([g, f]) => [g, [...f].sort()])),
    unit: [...unit].sort(),
  };
}

/** A usable value is a finite number; booleans, strings, NaN and null count as missing. */
function number(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function lookup(map, code) {
  if (map instanceof Map) return map.get(code);
  // Own properties only: "constructor" and friends must not leak in from the prototype.
  return map != null && typeof map === "object" && Object.prototype.hasOwnProperty.call(map, code)
    ? map[code] : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (integer arithmetic, as rules.py). */
export function daysFromCivil(year, month, day) {
  const y = year - (month <= 2 ? 1 : 0);
  const era = Math.floor((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * A sample field's value as a number: yes/no as 1/0, a number, a date YYYY-MM-DD as days since
 * 1970-01-01; anything else counts as missing (null).
 */
export function sampleNumber(v) {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(v);
    if (!m) return null;
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (year < 1 || month < 1 || month > 12
        || day < 1 || day > DAYS_IN_MONTH[month - 1] + (month === 2 && leap ? 1 : 0)) return null;
    return daysFromCivil(year, month, day);
  }
  return number(v);
}

/** A unit attribute as a comparable text: NFC, lower case; non-texts count as missing. */
function text(v) {
  return typeof v === "string" ? v.normalize("NFC").toLowerCase() : null;
}

/** An unknown value, with the reason it is unknown. */
class Unknown {
  constructor(reason) { this.reason = reason; }
}

function worst(...values) {
  const reasons = values.filter((x) => x instanceof Unknown).map((x) => x.reason);
  return new Unknown(reasons.reduce((x, y) => (REASON_RANK[y] > REASON_RANK[x] ? y : x)));
}

/** Value of `node`: a number, a boolean, a text, or an Unknown when it cannot be known. */
function evalNode(node, env) {
  if (node.kind === "num" || node.kind === "str") return node.value;
  if (node.kind === "unit") {
    const v = env.unit.get(node.value);
    return v === null ? new Unknown("missing_values") : v;
  }
  if (node.kind === "code") {
    const v = inGroup(node.value, env.group)
      ? sampleNumber(lookup(env.sample, node.value)) : env.values.get(node.value);
    return v === null ? new Unknown("missing_values") : v;
  }
  if (node.kind === "neg") {
    const v = evalNode(node.args[0], env);
    return v instanceof Unknown ? v : -v;
  }
  if (node.kind === "agg") return aggregate(node, env);
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
  if (op === "/" && !(b instanceof Unknown) && b === 0) return new Unknown("division_by_zero");
  if (a instanceof Unknown || b instanceof Unknown) return worst(a, b);
  if (typeof a === "string") return (text(a) === text(b)) === (op === "==");
  if (COMPARISONS.includes(op)) return COMPARE[op](a, b);
  const r = ARITHMETIC[op](a, b);
  return Number.isFinite(r) ? r : new Unknown("overflow");
}

/** count / sum / share over the samples of one group, in their order. */
function aggregate(node, env) {
  const samples = env.samples.get(node.value) || [];
  if (!node.args.length) return samples.length;
  if (node.op === "share" && !samples.length) return new Unknown("division_by_zero");
  const results = samples.map((sample) => evalNode(node.args[0], { ...env, group: node.value, sample }));
  if (results.some((r) => r instanceof Unknown)) return worst(...results);
  if (node.op === "sum") {
    let total = 0;
    for (const r of results) total += r;
    return Number.isFinite(total) ? total : new Unknown("overflow");
  }
  const met = results.filter((r) => r === true).length;
  return node.op === "count" ? met : (100 * met) / samples.length;
}

/**
 * The samples of one group; anything that is not an array of objects counts as empty objects
 * (a sample that is not an object has every field missing).
 */
function samplesOf(samples, group) {
  const found = lookup(samples, group);
  if (!Array.isArray(found)) return [];
  return found.map((s) => (s !== null && typeof s === "object" && !Array.isArray(s) ? s : {}));
}

function prepare(node, values, defaults, context) {
  const refs = references(node);
  const env = { values: new Map(), unit: new Map(), samples: new Map(), group: null, sample: null };
  const missing = new Set();
  for (const code of refs.codes) {
    const v = number(lookup(values, code));
    const value = v === null ? number(lookup(defaults, code)) : v;
    env.values.set(code, value);
    if (value === null) missing.add(code);
  }
  const unit = context && context.unit;
  for (const name of refs.unit) {
    const v = text(lookup(unit, name.split(".")[1]));
    env.unit.set(name, v);
    if (v === null) missing.add(name);
  }
  for (const [group, fields] of refs.groups) {
    const samples = samplesOf(context && context.samples, group);
    env.samples.set(group, samples);
    for (const code of fields) {
      if (samples.some((s) => sampleNumber(lookup(s, code)) === null)) missing.add(code);
    }
  }
  return { env, missing: [...missing].sort() };
}

/**
 * Evaluate a rule or condition against item values (object or Map, code -> number); `defaults`
 * fill missing codes; `context` may give {unit: {kind, level}, samples: {group: [sample]}}.
 * Returns {status, missing, reason} exactly like RuleOutcome.as_dict() in rules.py.
 */
export function evaluate(rule, values, defaults = {}, context = {}) {
  const node = typeof rule === "string" ? parse(rule) : rule;
  const { env, missing } = prepare(node, values, defaults, context);
  const result = evalNode(node, env);
  if (result instanceof Unknown) return { status: "unknown", missing, reason: result.reason };
  return { status: result ? "pass" : "fail", missing, reason: null };
}

/** Evaluate a numeric formula (a computed count): {value, missing, reason} like rules.compute. */
export function compute(formula, values, defaults = {}, context = {}) {
  const node = typeof formula === "string" ? parse(formula, "number") : formula;
  const { env, missing } = prepare(node, values, defaults, context);
  const result = evalNode(node, env);
  if (result instanceof Unknown) return { value: null, missing, reason: result.reason };
  return { value: result, missing, reason: null };
}
