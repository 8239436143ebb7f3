/**
 * Turns a command line into facts the rules can judge: every simple command anywhere in it
 * (including inside substitutions, functions and compound commands), how they are composed, and
 * every parse error, also from nested scripts. Built on unbash (pinned), walking word `parts`
 * because a word's `value` hides `$(...)`.
 */
import { forEachChild, parse } from "unbash";
import type { Command, ParsedScript, SyntaxNode, Word, WordPart } from "unbash";

export interface WordInfo {
  /** Source text of the word. */
  text: string;
  /** The word's value when it is fully static (no expansion, glob, tilde or brace). */
  literal?: string;
  /** Static and quoted at most with plain '…' or "…" (no backslash, no $'…'). */
  plain: boolean;
  /** Best guess of the words bash would produce (brace expansion, $IFS, ${x:-default}). */
  guesses: string[];
}

export interface RedirInfo {
  op: string;
  target?: WordInfo;
}

export interface SimpleCmd {
  words: WordInfo[];
  /** Guessed argv, flattened from every word's guesses. */
  argv: string[];
  redirects: RedirInfo[];
  /** The source text of the command. */
  segment: string;
  /** Previous stages of the pipeline this command is in. */
  upstream: SimpleCmd[];
  /** Guessed stdin words when an earlier stage is a plain `echo`/`printf`. */
  stdinWords?: string[];
  /** Commands found inside this command's own substitutions ($(…), <(…), `…`). */
  inner: SimpleCmd[];
  /** Nesting: 0 for the top level, more inside substitutions. */
  depth: number;
  /** Possible working directories after an earlier `cd`/`pushd` in the same line (unknown: undefined). */
  cwd?: string[];
  /** Text fed to stdin: here-strings, here-doc bodies, an upstream echo/printf (or cat of those). */
  stdinText?: string[];
}

export interface ShellFacts {
  errors: { message: string; pos: number }[];
  commands: SimpleCmd[];
  /** Names of structure found: pipeline, list, background, subshell, substitution, function, … */
  features: Set<string>;
  /** [pos, end) ranges of quoted text and here-doc bodies (for the non-ASCII check). */
  quoted: [number, number][];
  /** Top-level statements. */
  statements: { pos: number; end: number }[];
  /** Names of functions whose body calls themselves (fork bombs). */
  recursiveFunctions: string[];
}

const HOME_GUESS: Record<string, string> = { HOME: "~", PWD: ".", OLDPWD: ".." };
/**
 * Values the line itself gives variables (`X=/; rm -rf $X`, `for d in /; …`, positional
 * parameters of `bash -c '…' _ /`), used only for the guesses the hard rules judge.
 */
let VARS: Map<string, string[]> | undefined;
const SPLIT = "\u0000";
const MAX_GUESSES = 64;

/**
 * Parses and walks a script. Never throws on bad input: problems land in `errors`. `vars` are
 * known variable values (e.g. positional parameters of `bash -c '…' _ /`).
 */
export function analyze(source: string, vars?: Record<string, string[]>): ShellFacts {
  const facts: ShellFacts = { errors: [], commands: [], features: new Set(), quoted: [], statements: [], recursiveFunctions: [] };
  let script: ParsedScript;
  try {
    script = parse(source);
  } catch (error) {
    facts.errors.push({ message: `parser failure: ${error instanceof Error ? error.message : String(error)}`, pos: 0 });
    return facts;
  }
  facts.statements = script.commands.map((s) => ({ pos: s.pos, end: s.end }));
  const saved = VARS;
  try {
    // Only a line that both expands and assigns (or loops, or got parameters) needs the pre-pass.
    VARS = source.includes("$") && (vars !== undefined || /=|for/.test(source)) ? collectVars(script, vars) : undefined;
    const walker = new Walker(facts);
    walker.script(script, source, 0, true);
  } finally {
    VARS = saved;
  }
  return facts;
}

/** Every value the line assigns to a variable (assignments, `for` words), in source order. */
function collectVars(script: ParsedScript, inherited?: Record<string, string[]>): Map<string, string[]> | undefined {
  const map = new Map<string, string[]>(Object.entries(inherited ?? {}));
  VARS = map;
  const add = (name: string, values: string[]) => {
    const old = map.get(name) ?? [];
    map.set(name, [...old, ...values].slice(0, MAX_GUESSES));
  };
  const visit = (node: SyntaxNode): void => {
    if (node.type === "Assignment" && node.value.type === "Word") add(node.name, node.value.parts ? guessWord(node.value.parts, true) : [node.value.value]);
    // Arrays: `a=(rm -rf /); "${a[@]}"` is those words.
    else if (node.type === "Assignment" && node.value.type === "ArrayValue") add(node.name, [node.value.elements.flatMap((w) => wordInfo(w).guesses).join(SPLIT)]);
    else if (node.type === "For" && node.wordlist) add(node.name.value, node.wordlist.flatMap((w) => wordInfo(w).guesses));
    forEachChild(node, visit);
  };
  for (const st of script.commands) visit(st);
  return map.size ? map : undefined;
}

/** `$((0-1))` → "-1": integer arithmetic over literals only; anything else is unknown. */
function arithmetic(text: string): string | undefined {
  const expr = text.replace(/^\$\(\(|\)\)$/g, "").replace(/^\$\[|\]$/g, "");
  if (!/^[\d\s+\-*/%()]{1,80}$/.test(expr) || /\*\*/.test(expr)) return undefined;
  try {
    const value = Function(`"use strict"; return (${expr});`)() as unknown;
    return typeof value === "number" && Number.isFinite(value) ? String(Math.trunc(value)) : undefined;
  } catch {
    return undefined;
  }
}

class Walker {
  readonly facts: ShellFacts;
  readonly heredocs: [number, number][] = [];
  /** Commands collected by the innermost open Command (for `inner`). */
  private collectors: SimpleCmd[][] = [];
  /** Working directories after the last `cd`/`pushd` seen so far (undefined: unknown). */
  private cwd: string[] | undefined;

  constructor(facts: ShellFacts) {
    this.facts = facts;
  }

  script(script: ParsedScript, source: string, depth: number, top: boolean): void {
    for (const e of script.errors ?? []) this.facts.errors.push({ message: e.message, pos: e.pos });
    const own = (script as { source?: string }).source;
    const src = own ?? source;
    for (const st of script.commands) this.visit(st, src, depth);
    // Separators and comments are not in the tree: whatever lies between statements must be just
    // that, or the parser skipped something bash would refuse (`ls (`).
    if (own === undefined) this.checkGaps(script, src, top);
  }

  private checkGaps(script: ParsedScript, src: string, top: boolean): void {
    const start = top ? 0 : script.pos;
    const end = top ? src.length : script.end;
    let cursor = start;
    const stmts = script.commands;
    for (let i = 0; i <= stmts.length; i++) {
      const gapEnd = i < stmts.length ? stmts[i].pos : end;
      const gap = this.maskHeredocs(src, cursor, gapEnd);
      const pattern = i === 0 ? /^(?:[ \t\r\n]|#[^\n]*)*$/ : /^[ \t]*;?(?:[ \t\r\n]|#[^\n]*)*$/;
      if (!pattern.test(gap)) {
        const bad = gap.search(/[^ \t\n;]/);
        this.facts.errors.push({ message: `unexpected text ${JSON.stringify(gap.trim().slice(0, 20))}`, pos: cursor + Math.max(0, bad) });
        return;
      }
      if (i > 0 && i < stmts.length && !/[;\n]/.test(gap) && !stmts[i - 1].background) {
        this.facts.errors.push({ message: "missing separator between commands", pos: cursor });
        return;
      }
      if (i < stmts.length) cursor = stmts[i].end;
    }
  }

  private maskHeredocs(src: string, from: number, to: number): string {
    let text = src.slice(from, to);
    for (const [a, b] of this.heredocs) {
      if (b <= from || a >= to) continue;
      const s = Math.max(a, from) - from;
      const e = Math.min(b, to) - from;
      text = text.slice(0, s) + "\n".repeat(e - s) + text.slice(e);
    }
    return text;
  }

  visit(node: SyntaxNode, src: string, depth: number): void {
    const f = this.facts.features;
    switch (node.type) {
      case "Script":
        f.add("substitution");
        this.script(node, src, depth + 1, false);
        return;
      case "Statement":
        if (node.background) f.add("background");
        break;
      case "AndOr":
        f.add("list");
        break;
      case "Pipeline":
        if (node.commands.length > 1) f.add("pipeline");
        if (node.prefixes.length) f.add("pipeline-prefix");
        this.pipeline(node.commands, src, depth);
        return;
      case "Command":
        this.command(node, src, depth, []);
        return;
      case "Function": {
        f.add("function");
        const name = node.name.value;
        const calls: string[] = [];
        const before = this.facts.commands.length;
        forEachChild(node, (c) => this.visit(c, src, depth));
        for (const cmd of this.facts.commands.slice(before)) if (cmd.argv[0] !== undefined) calls.push(cmd.argv[0]);
        if (calls.includes(name)) this.facts.recursiveFunctions.push(name);
        return;
      }
      case "Subshell":
      case "BraceGroup":
      case "If":
      case "For":
      case "ArithmeticFor":
      case "While":
      case "Case":
      case "Select":
      case "Coproc":
      case "TestCommand":
      case "ArithmeticCommand":
      case "Redirected":
        f.add("compound");
        break;
      case "ExtendedGlob":
        // extglob is off in a non-interactive bash: `bash -c` and `bash -n` refuse these.
        this.facts.errors.push({ message: "extended glob pattern (extglob is off in bash -c)", pos: node.pos });
        break;
      case "Redirect":
      case "HereString":
        f.add("redirect");
        break;
      case "HereDoc":
        f.add("redirect");
        this.heredocs.push([node.body.pos, node.closing?.end ?? node.body.end]);
        this.facts.quoted.push([node.body.pos, node.body.end]);
        break;
      case "SingleQuoted":
      case "DoubleQuoted":
      case "AnsiCQuoted":
      case "LocaleString":
        this.facts.quoted.push([node.pos, node.end]);
        break;
      case "CommandExpansion":
      case "ProcessSubstitution":
      case "ArithmeticCommandExpansion":
        f.add("substitution");
        if (node.script) this.script(node.script, src, depth + 1, false);
        return;
      default:
        break;
    }
    forEachChild(node, (c) => this.visit(c, src, depth));
  }

  private pipeline(stages: readonly SyntaxNode[], src: string, depth: number): void {
    const upstream: SimpleCmd[] = [];
    for (const stage of stages) {
      if (stage.type === "Command") {
        const cmd = this.command(stage, src, depth, [...upstream]);
        upstream.push(cmd);
      } else {
        this.facts.features.add("compound");
        const before = this.facts.commands.length;
        forEachChild(stage, (c) => this.visit(c, src, depth));
        // Commands inside a compound stage still see what was piped into the compound.
        for (const c of this.facts.commands.slice(before)) if (c.depth === depth) c.upstream.push(...upstream);
        upstream.push(...this.facts.commands.slice(before).filter((c) => c.depth === depth));
      }
    }
  }

  private command(node: Command, src: string, depth: number, upstream: SimpleCmd[]): SimpleCmd {
    const words: WordInfo[] = [];
    const redirects: RedirInfo[] = [];
    const cmd: SimpleCmd = { words, argv: [], redirects, segment: src.slice(node.pos, node.end), upstream, inner: [], depth, cwd: this.cwd };
    const stdinText: string[] = [];
    this.facts.commands.push(cmd);
    this.collectors.push(cmd.inner);
    const before = this.facts.commands.length;
    const items = [...node.prefix, ...(node.name ? [node.name] : []), ...node.suffix];
    for (const item of items) {
      if (item.type === "Word") {
        words.push(wordInfo(item));
        this.visit(item, src, depth);
      } else if (item.type === "Assignment") {
        this.facts.features.add("assignment");
        if (words.length > 0) {
          // `alias x='…'`, `export A=$(…)`: an argument of the command, not a prefix assignment.
          const value = item.value.type === "Word" ? wordInfo(item.value) : undefined;
          const head = item.text.slice(0, item.text.indexOf("=") + 1);
          words.push({ text: item.text, literal: value?.literal === undefined ? undefined : head + value.literal, plain: false, guesses: value ? value.guesses.map((g) => head + g) : [item.text] });
        }
        this.visit(item, src, depth);
      } else {
        this.facts.features.add("redirect");
        if (item.type === "HereDoc") stdinText.push(item.body.text);
        const target = "target" in item && item.target ? wordInfo(item.target) : undefined;
        if (item.type === "HereString" && target) stdinText.push(...target.guesses);
        redirects.push({ op: item.operator, target });
        this.visit(item, src, depth);
      }
    }
    this.collectors.pop();
    cmd.inner.push(...this.facts.commands.slice(before));
    cmd.argv = words.flatMap((w) => w.guesses);
    const producer = upstream[upstream.length - 1];
    const producerName = baseName(producer?.argv[0] ?? "");
    // `echo …`, also behind a wrapper (`sudo echo 'rm -rf /' | sh`).
    const echoAt = producer ? producer.argv.slice(0, 8).findIndex((w) => /^(echo|printf)$/.test(baseName(w))) : -1;
    if (producer && echoAt >= 0) {
      const text = printed(baseName(producer.argv[echoAt]), producer.argv.slice(echoAt + 1));
      cmd.stdinWords = text.split(/\s+/).filter(Boolean);
      stdinText.push(text);
    } else if (producer && /^(cat|tee)$/.test(producerName) && producer.stdinText) {
      stdinText.push(...producer.stdinText);
    } else if (producer?.stdinText) {
      // `echo cm0gLXJmIC8= | base64 -d | sh`: what a decoder stage hands on.
      for (const t of producer.stdinText) {
        const decoded = decodeStage(producer.argv[0] ?? "", producer.argv.slice(1), t);
        if (decoded !== undefined) stdinText.push(decoded);
      }
    }
    if (stdinText.length) cmd.stdinText = stdinText;
    if (!cmd.stdinWords && stdinText.length) cmd.stdinWords = stdinText.flatMap((t) => t.split(/\s+/)).filter(Boolean).slice(0, MAX_GUESSES);
    if (/^(cd|pushd)$/.test(cmd.argv[0] ?? "")) this.cwd = changeDir(cmd.argv.slice(1), this.cwd);
    return cmd;
  }
}

/** Where `cd ARGS` leads, given the possible current directories. */
function changeDir(args: string[], cwd: string[] | undefined): string[] | undefined {
  const operands = args.filter((a) => !/^-[LPe@]+$/.test(a) && a !== "--");
  if (operands.length === 0) return ["~"];
  const out: string[] = [];
  for (const g of operands.slice(0, 1)) {
    if (g === "-") return undefined;
    if (g === "") out.push("~");
    else if (g.startsWith("/") || g.startsWith("~")) out.push(g);
    else if (cwd) out.push(...cwd.map((c) => `${c}/${g}`));
    else return undefined;
  }
  return out.slice(0, 8);
}

export function baseName(path: string): string {
  const i = path.lastIndexOf("/");
  return i >= 0 ? path.slice(i + 1) : path;
}

/** Facts about one word, from its parts. */
export function wordInfo(word: Word): WordInfo {
  const parts = word.parts;
  if (!parts || parts.length === 0) {
    // No parts: a plain word, possibly with backslash escapes or a leading tilde.
    const tilde = word.text.startsWith("~");
    const plain = !word.text.includes("\\") && !tilde;
    return { text: word.text, literal: tilde ? undefined : word.value, plain, guesses: [word.value] };
  }
  let literal = true;
  let plain = true;
  for (const p of parts) {
    switch (p.type) {
      case "Literal":
        if (p.text.includes("\\")) plain = false;
        break;
      case "SingleQuoted":
        break;
      case "DoubleQuoted":
        for (const c of p.parts) {
          if (c.type !== "Literal") literal = plain = false;
          else if (c.text.includes("\\")) plain = false;
        }
        break;
      case "AnsiCQuoted":
        plain = false;
        break;
      default:
        literal = plain = false;
    }
  }
  if (word.text.startsWith("~")) literal = plain = false;
  const value = literal ? parts.map(partLiteral).join("") : undefined;
  return { text: word.text, literal: value, plain: plain && literal, guesses: guessWord(parts) };
}

function partLiteral(p: WordPart): string {
  switch (p.type) {
    case "Literal":
    case "SingleQuoted":
    case "AnsiCQuoted":
      return p.value;
    case "DoubleQuoted":
      return p.parts.map((c) => (c.type === "Literal" ? c.value : "")).join("");
    default:
      return "";
  }
}

/**
 * What bash would most likely make of a word, for the hard rules only (it can only make a
 * verdict stricter): unquoted $IFS splits, ${x:-w} becomes w, $(echo w) becomes w, brace
 * expansion multiplies words, other expansions become "" (unset).
 */
function guessWord(parts: readonly WordPart[], quoted = false): string[] {
  let alternatives = [""];
  for (const p of parts) {
    const options = guessPart(p, quoted);
    const next: string[] = [];
    for (const a of alternatives) for (const o of options) if (next.length < MAX_GUESSES) next.push(a + o);
    alternatives = next;
  }
  return alternatives.flatMap((a) => a.split(SPLIT)).filter((w, i, all) => w !== "" || all.length === 1);
}

function guessPart(p: WordPart | { type: string; [k: string]: unknown }, quoted: boolean): string[] {
  const part = p as WordPart;
  switch (part.type) {
    case "Literal":
    case "SingleQuoted":
    case "AnsiCQuoted":
      return [part.value];
    case "DoubleQuoted":
    case "LocaleString":
      return [part.parts.map((c) => guessPart(c, true)[0]).join("")];
    case "SimpleExpansion": {
      const name = part.text.replace(/^\$\{?/, "").replace(/\}$/, "");
      if (name === "IFS") return [quoted ? " " : SPLIT];
      return known(name, quoted) ?? [Object.hasOwn(HOME_GUESS, name) ? HOME_GUESS[name] : ""];
    }
    case "ParameterExpansion": {
      if (part.parameter === "IFS" && !part.operation) return [quoted ? " " : SPLIT];
      const op = part.operation;
      // `${!ref}`: the variable named by ref's value.
      const values = part.prefix === "!" && !op ? (known(part.parameter, true) ?? []).flatMap((n) => known(n, quoted) ?? []) : known(part.parameter, quoted);
      if (op && op.type === "Default") {
        const inner = op.operand.parts ? guessWord(op.operand.parts) : [op.operand.value];
        return [...(values ?? []), inner.join(quoted ? " " : SPLIT)];
      }
      if (op && values) return transformed(values, op);
      return values ?? [Object.hasOwn(HOME_GUESS, part.parameter) ? HOME_GUESS[part.parameter] : ""];
    }
    case "ArithmeticExpansion":
      return [arithmetic(part.text) ?? ""];
    case "CommandExpansion": {
      const echoed = echoedText(part.script);
      return [echoed === undefined ? "" : quoted ? echoed : echoed.split(/\s+/).join(SPLIT)];
    }
    case "ProcessSubstitution":
      return ["/dev/fd/63"];
    case "BraceExpansion":
      return expandBraces(part.text);
    case "Glob":
    case "ExtendedGlob":
      return [part.text];
    default:
      return [""];
  }
}

/**
 * Suffix and prefix removal, replacement, case and slices (`${X%/nginx}`, `${X/etc/usr}`,
 * `${X,,}`, `${X:0:4}`) over known values. Literal patterns are applied; a glob pattern gives
 * every cut at a `/` (an over-approximation, for hard rules only).
 */
function transformed(values: string[], op: NonNullable<Extract<WordPart, { type: "ParameterExpansion" }>["operation"]>): string[] {
  const lit = (w: Word | undefined) => (w ? (w.parts ? wordInfo(w).literal : w.value) : "");
  const out: string[] = [];
  for (const v of values) {
    const clean = v.split(SPLIT).join(" ");
    switch (op.type) {
      case "Remove": {
        const pattern = lit(op.operand);
        const raw = op.operand.text;
        if (pattern !== undefined && !/[*?[]/.test(pattern)) {
          out.push(op.operator.startsWith("#") ? (clean.startsWith(pattern) ? clean.slice(pattern.length) : clean) : clean.endsWith(pattern) ? clean.slice(0, clean.length - pattern.length) : clean);
        } else if (raw === "/*" && op.operator.startsWith("%")) {
          const i = op.operator === "%" ? clean.lastIndexOf("/") : clean.indexOf("/");
          out.push(i >= 0 ? clean.slice(0, i) : clean);
        } else if (raw === "*/" && op.operator.startsWith("#")) {
          const i = op.operator === "#" ? clean.indexOf("/") : clean.lastIndexOf("/");
          out.push(i >= 0 ? clean.slice(i + 1) : clean);
        } else {
          const cuts = [...clean.matchAll(/\//g)].map((m) => m.index ?? 0);
          out.push(clean, ...cuts.map((i) => clean.slice(0, i)), ...cuts.map((i) => clean.slice(i)), ...cuts.map((i) => clean.slice(i + 1)));
        }
        break;
      }
      case "Replace": {
        const pattern = lit(op.pattern);
        const replacement = lit(op.replacement) ?? "";
        if (pattern !== undefined && pattern !== "" && !/[*?[]/.test(pattern)) out.push(op.operator === "//" ? clean.split(pattern).join(replacement) : clean.replace(pattern, replacement));
        else out.push(clean, replacement);
        break;
      }
      case "CaseModification":
        out.push(clean.toLowerCase(), clean.toUpperCase(), clean);
        break;
      case "Slice": {
        const from = Number(lit(op.offset));
        const len = op.length ? Number(lit(op.length)) : undefined;
        out.push(Number.isInteger(from) && (len === undefined || Number.isInteger(len)) ? clean.slice(from < 0 ? clean.length + from : from, len === undefined ? undefined : len < 0 ? len : (from < 0 ? clean.length + from : from) + len) : clean);
        break;
      }
      default:
        out.push(clean);
    }
  }
  return [...new Set(out)].slice(0, MAX_GUESSES);
}

/** Values the line gave `name` ($@ and $* are every positional parameter), split when unquoted. */
function known(name: string, quoted: boolean): string[] | undefined {
  if (!VARS) return undefined;
  const values = name === "@" || name === "*" ? [[...VARS.entries()].filter(([k]) => /^[1-9]\d*$/.test(k)).flatMap(([, v]) => v).join(" ")] : VARS.get(name);
  if (!values || values.length === 0 || values[0] === undefined) return undefined;
  // "$@" is one word per positional parameter even when quoted.
  if (name === "@" && VARS) return [[...VARS.entries()].filter(([k]) => /^[1-9]\d*$/.test(k)).flatMap(([, v]) => v).join(SPLIT)];
  // Word splitting also on whatever the line put in IFS (`IFS=,; X=rm,-rf,/; $X`).
  const ifs = VARS.get("IFS")?.join("").replace(/[\s\u0000]/g, "") ?? "";
  const split = ifs ? new RegExp(`[\\s${ifs.replace(/[\]\\^-]/g, "\\$&")}]+`) : /\s+/;
  return values.map((v) => (quoted ? v : v.split(split).join(SPLIT)));
}

/** `$(echo rm)` → "rm": the text a plain echo/printf substitution prints. */
function echoedText(script: ParsedScript | undefined): string | undefined {
  const st = script?.commands;
  if (!st || st.length !== 1) return undefined;
  // `$(echo cm0gLXJmIC8= | base64 -d)`: an echo piped through decoders.
  const node = st[0].command as SyntaxNode | undefined;
  if (!node) return undefined;
  const stages = node.type === "Pipeline" ? node.commands : [node];
  const c = stages[0];
  if (!c || c.type !== "Command" || !c.name) return undefined;
  const name = c.name.value;
  if (name !== "echo" && name !== "printf") return undefined;
  const words = c.suffix.filter((s): s is Word => s.type === "Word").map((w) => wordInfo(w).guesses.join(" "));
  let text: string | undefined = printed(name, words);
  for (const stage of stages.slice(1)) {
    if (!stage || stage.type !== "Command" || !stage.name) return undefined;
    text = decodeStage(stage.name.value, stage.suffix.filter((s): s is Word => s.type === "Word").map((w) => w.value), text);
    if (text === undefined) return undefined;
  }
  return text.replace(/\n/g, " ");
}

/** What `echo ARGS` / `printf ARGS` print: printf and `echo -e` turn \x72, \162, \n into characters. */
export function printed(name: string, args: string[]): string {
  const escapes = name === "printf" || args.some((a) => /^-[neE]*e[neE]*$/.test(a));
  const text = args.filter((a) => !/^-[neE]+$/.test(a)).join(" ");
  if (!escapes) return text;
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|0?[0-7]{1,3}|[ntr\\])/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : "\\";
  });
}

/** Text after one pipeline stage that only transforms it (`base64 -d`, `rev`, `cat`), or undefined. */
export function decodeStage(name: string, args: string[], text: string): string | undefined {
  const base = baseName(name);
  if (base === "cat" && args.length === 0) return text;
  if (base === "base64" && args.some((a) => /^-[a-zA-Z]*d|^--decode$/.test(a))) {
    const clean = text.replace(/\s+/g, "");
    return /^[A-Za-z0-9+/=_-]*$/.test(clean) ? Buffer.from(clean, "base64").toString("latin1") : undefined;
  }
  if (base === "xxd" && args.some((a) => a === "-r") && args.some((a) => a === "-p" || a === "-ps")) {
    const clean = text.replace(/\s+/g, "");
    return /^([0-9a-fA-F]{2})*$/.test(clean) ? Buffer.from(clean, "hex").toString("latin1") : undefined;
  }
  if (base === "rev" && args.length === 0) return text.split("\n").map((l) => [...l].reverse().join("")).join("\n");
  return undefined;
}

/**
 * The words a brace expansion part gives, each a separate alternative so the rest of the word
 * joins every one of them: `{rm,-rf,/}` → rm, -rf, /; `/{tmp,etc}` → /tmp, /etc. Bounded.
 */
function expandBraces(text: string): string[] {
  const clean = text.replace(/\\(.)/g, "$1").replace(/['"]/g, "");
  return expand(clean, 0).slice(0, MAX_GUESSES);
}

function expand(text: string, depth: number): string[] {
  if (depth > 4) return [text];
  const open = text.indexOf("{");
  if (open < 0) return [text];
  let level = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") level++;
    else if (ch === "}") {
      level--;
      if (level === 0) {
        close = i;
        break;
      }
    } else if (ch === "," && level === 1) commas.push(i);
  }
  if (close < 0) return [text];
  const head = text.slice(0, open);
  const tail = text.slice(close + 1);
  const body = text.slice(open + 1, close);
  let items: string[];
  const seq = /^(-?\d+|[a-zA-Z])\.\.(-?\d+|[a-zA-Z])$/.exec(body);
  if (commas.length > 0) {
    const bounds = [open, ...commas, close];
    items = bounds.slice(0, -1).map((b, i) => text.slice(b + 1, bounds[i + 1]));
  } else if (seq) {
    items = seqItems(seq[1], seq[2]);
  } else {
    return [head + "{" + body + "}" + expand(tail, depth + 1).join(" ")];
  }
  const result: string[] = [];
  for (const item of items) for (const e of expand(head + item + tail, depth + 1)) if (result.length < MAX_GUESSES) result.push(e);
  return result;
}

function seqItems(a: string, b: string): string[] {
  const num = /^-?\d+$/.test(a) && /^-?\d+$/.test(b);
  const from = num ? Number(a) : a.charCodeAt(0);
  const to = num ? Number(b) : b.charCodeAt(0);
  const step = from <= to ? 1 : -1;
  const items: string[] = [];
  for (let i = from; step > 0 ? i <= to : i >= to; i += step) {
    items.push(num ? String(i) : String.fromCharCode(i));
    if (items.length >= MAX_GUESSES) break;
  }
  return items;
}
