/**
 * Option tables with each option's real arity, and a parser that reads argv the way the tool
 * does: GNU getopt_long (permuted operands, `--` ends options, unique long prefixes, optional
 * arguments only when attached: `--color=always`, `-n5`), plus the few tools that peek at the
 * next word for an optional value (journalctl `-n 50`, `-b -1`; lsof `-i :22`).
 *
 * A table is written as a compact string, one token per option:
 *   `n,lines=`  short -n, long --lines, required argument
 *   `,color?`   long only, optional argument (attached only)
 *   `f,follow!f` known, but not accepted; the letter after `!` says why (see DENY_CLASS)
 *   `l`         short only, no argument
 */

export type Arity = "none" | "required" | "optional";

export interface OptDef {
  short?: string;
  long?: string;
  arity: Arity;
  /** Known to the tool but not accepted: the class of why. */
  deny?: DenyClass;
  /** Canonical spelling: `--long` when there is one, else `-s`. */
  canonical: string;
  /** The table token, shown by `policy check --explain`. */
  token: string;
}

export type DenyClass = "w" | "f" | "s" | "d" | "n" | "x" | "o";

/** Rule and reason for each class of refused option. */
export const DENY_CLASS: Record<DenyClass, { rule: string; why: string }> = {
  w: { rule: "approval.option", why: "changes state (writes files, sets the clock, changes the system)" },
  f: { rule: "approval.never-ends", why: "never ends on its own (follows, repeats or polls)" },
  s: { rule: "approval.sensitive-path", why: "reads a file named by its value (its contents can leak into the output)" },
  d: { rule: "approval.device", why: "reads devices directly" },
  n: { rule: "approval.egress", why: "talks to another host" },
  x: { rule: "approval.option", why: "runs another program" },
  o: { rule: "approval.option", why: "is not on the accepted list" },
};

export interface Table {
  defs: OptDef[];
  byShort: Map<string, OptDef>;
  byLong: Map<string, OptDef>;
  /** Long options accept unique prefixes (getopt_long). False for tables known to be partial. */
  abbrev: boolean;
  /** Options (by canonical name) whose missing value is taken from the next word when it matches. */
  peek: Map<string, (next: string) => boolean>;
  /** Accept `-20` (head, tail, last). */
  numeric: boolean;
  /** Stop at the first operand (POSIX order) instead of permuting. */
  posix: boolean;
}

export interface TableSpec {
  opts: string;
  abbrev?: boolean;
  peek?: Record<string, RegExp | ((next: string) => boolean)>;
  numeric?: boolean;
  posix?: boolean;
}

const TOKEN = /^([^,=?!])?(?:,([A-Za-z0-9][\w-]*))?([=?])?(?:!([wfsdnxo]))?$/;

export function table(spec: TableSpec): Table {
  const defs: OptDef[] = [];
  for (const token of spec.opts.split(/\s+/).filter(Boolean)) {
    const m = TOKEN.exec(token);
    if (!m || (!m[1] && !m[2])) throw new Error(`bad option token ${JSON.stringify(token)}`);
    const [, short, long, arity, deny] = m;
    defs.push({ short, long, arity: arity === "=" ? "required" : arity === "?" ? "optional" : "none", deny: deny as DenyClass | undefined, canonical: long ? `--${long}` : `-${short}`, token });
  }
  const byShort = new Map<string, OptDef>();
  const byLong = new Map<string, OptDef>();
  for (const d of defs) {
    if (d.short) byShort.set(d.short, d);
    if (d.long) byLong.set(d.long, d);
  }
  const peek = new Map<string, (next: string) => boolean>();
  for (const [k, test] of Object.entries(spec.peek ?? {})) {
    const d = byShort.get(k) ?? byLong.get(k);
    if (!d) throw new Error(`peek for unknown option ${k}`);
    peek.set(d.canonical, typeof test === "function" ? test : (w) => test.test(w));
  }
  return { defs, byShort, byLong, abbrev: spec.abbrev ?? true, peek, numeric: spec.numeric ?? false, posix: spec.posix ?? false };
}

export interface ParsedOpt {
  def: OptDef;
  /** The value, attached or taken from the next word. */
  value?: string;
  /** The words as written. */
  raw: string;
}

export interface Parsed {
  opts: ParsedOpt[];
  operands: string[];
  /** Why the tool would read these words differently from what can be judged, or undefined. */
  problem?: { rule: string; reason: string; entry?: string };
}

/** How a def is shown by --explain: `-n, --lines[=ARG]  optional argument, attached only`. */
export function describeDef(d: OptDef, t?: Table): string {
  const names = [d.short && `-${d.short}`, d.long && `--${d.long}`].filter(Boolean).join(", ");
  const arg = d.arity === "required" ? " ARG (required argument: attached or the next word)" : d.arity === "optional" ? ` [ARG] (optional argument: attached only${t?.peek.has(d.canonical) ? ", or the next word when it parses as one" : ""})` : " (no argument)";
  return `${names}${arg}${d.deny ? `; not accepted: ${DENY_CLASS[d.deny].why}` : "; accepted"}`;
}

/** Resolves a long option name the way getopt_long does: exact, else a unique prefix. */
export function resolveLong(t: Table, name: string): { def?: OptDef; ambiguous?: string[] } {
  const exact = t.byLong.get(name);
  if (exact) return { def: exact };
  if (!t.abbrev || name === "") return {};
  const found: OptDef[] = [];
  for (const d of t.defs) if (d.long && d.long.startsWith(name)) found.push(d);
  if (found.length === 1) return { def: found[0] };
  if (found.length > 1) return { ambiguous: found.map((d) => `--${d.long}`) };
  return {};
}

/** Reads `args` as the tool's getopt_long would. */
export function parseArgs(tool: string, t: Table, args: string[]): Parsed {
  const opts: ParsedOpt[] = [];
  const operands: string[] = [];
  const fail = (rule: string, reason: string, def?: OptDef): Parsed => ({ opts, operands, problem: { rule, reason, entry: def ? `${tool} ${describeDef(def, t)}` : undefined } });
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const { def, ambiguous } = resolveLong(t, name);
      if (ambiguous) return fail("approval.ambiguous", `${tool} --${name} is ambiguous (${ambiguous.join(", ")}): the tool's own reading cannot be known`);
      if (!def) return fail("approval.option", `${tool} option --${name} is not on the accepted list${t.abbrev ? "" : " (options are matched exactly)"}`);
      let value: string | undefined;
      if (eq >= 0) {
        if (def.arity === "none") return fail("approval.option", `${tool} --${def.long} takes no value`, def);
        value = a.slice(eq + 1);
      } else if (def.arity === "required") {
        if (i + 1 >= args.length) return fail("approval.option", `${tool} --${def.long} needs a value`, def);
        value = args[++i];
      } else if (def.arity === "optional") {
        const peek = t.peek.get(def.canonical);
        if (peek && i + 1 < args.length && peek(args[i + 1])) value = args[++i];
      }
      opts.push({ def, value, raw: a });
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      if (t.numeric && /^-\d+$/.test(a)) {
        opts.push({ def: NUMERIC, value: a.slice(1), raw: a });
        continue;
      }
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        const def = t.byShort.get(c);
        if (!def) return fail("approval.option", `${tool} option -${c} is not on the accepted list`);
        if (def.arity === "none") {
          opts.push({ def, raw: a });
          continue;
        }
        let value: string | undefined = a.slice(k + 1) || undefined;
        if (value === undefined && def.arity === "required") {
          if (i + 1 >= args.length) return fail("approval.option", `${tool} -${c} needs a value`, def);
          value = args[++i];
        } else if (value === undefined && def.arity === "optional") {
          const peek = t.peek.get(def.canonical);
          if (peek && i + 1 < args.length && peek(args[i + 1])) value = args[++i];
        }
        opts.push({ def, value, raw: a });
        break;
      }
      continue;
    }
    operands.push(a);
    if (t.posix) {
      operands.push(...args.slice(i + 1));
      break;
    }
  }
  return { opts, operands };
}

const NUMERIC: OptDef = { short: "N", arity: "required", canonical: "--lines", token: "-NUM" };

/**
 * Prefix-matched option values (GNU argmatch, grep's -d/-D): the full value the tool picks, or
 * why it cannot be known. `exactFirst`: an exact match wins over prefixes (argmatch does).
 */
export function matchValue(value: string, allowed: readonly string[]): { value?: string; ambiguous?: string[] } {
  if (allowed.includes(value)) return { value };
  if (value === "") return {};
  const found = allowed.filter((v) => v.startsWith(value));
  if (found.length === 1) return { value: found[0] };
  if (found.length > 1) return { ambiguous: found };
  return {};
}
