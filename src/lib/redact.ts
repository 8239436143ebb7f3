/**
 * The shared redactor: replaces secrets with stable placeholders before text is persisted (audit,
 * history, the last conversation) or sent to an AI provider (chat). Sources of truth:
 * - known secret values (API keys, vault values from the `secretValues` hook);
 * - token formats after gitleaks' and detect-secrets' rule sets (src/lib/redact/rules.ts);
 * - secrets known by where they stand: command-line credentials, secret-named keys in env, INI,
 *   YAML, JSON and headers, URL passwords, private-key bodies (src/lib/redact/generic.ts);
 * - AWS secret keys standing alone (entropy) and Kubernetes Secret data (src/lib/redact/detectors.ts).
 * Invisible characters cannot split a token past it (src/lib/redact/normalize.ts). All matches are
 * collected in one pass over the text, overlaps are resolved, and the text is rebuilt once, so a
 * placeholder is never itself re-redacted. A keyword prefilter skips rules whose literals are not
 * in the text, and every pattern is linear: bounded classes, no nested ambiguous quantifiers.
 */
import { AWS_SECRET_ENTROPY, K8S_SECRET, type Detector } from "./redact/detectors.ts";
import { GENERIC_RULES } from "./redact/generic.ts";
import { keywordScanner, type KeywordScanner } from "./redact/keywords.ts";
import { hasInvisible, normalize, stripInvisible } from "./redact/normalize.ts";
import { AWS_SECRET_AFTER_NAME, TOKEN_RULES, type Candidate, type PatternRule } from "./redact/rules.ts";

export interface RedactionResult {
  text: string;
  /** Replacements made in this call. */
  count: number;
  /** Replacements per kind, e.g. `{ "aws-key": 1 }`. */
  kinds: Record<string, number>;
}

export interface RedactionStream {
  /** Feeds a chunk; returns the text that is now safe to emit (possibly empty). */
  push(chunk: string): string;
  /** Flushes whatever is held back. */
  end(): string;
}

export interface Redactor {
  /** Placeholders are stable per redactor: the same value always gets the same placeholder. */
  redact(text: string): RedactionResult;
  /** Returns a copy with every string inside objects and arrays redacted (keys are kept). */
  redactDeep<T>(value: T): T;
  /** A redacting stream: a secret split across chunks is still caught. */
  stream(): RedactionStream;
  /** Total replacements so far, across redact, redactDeep and streams. */
  readonly count: number;
}

export interface RedactorOptions {
  /** Exact values that must never get through (API keys, vault values). */
  knownSecrets?: readonly (string | undefined | null)[];
}

/**
 * Known secrets shorter than this are ignored: redacting every "ab" would wreck the text and,
 * by the shape of the holes, reveal the value anyway.
 */
export const MIN_SECRET_LENGTH = 4;
/** Known secrets shorter than this are only redacted as a whole token, not inside longer words. */
export const WHOLE_TOKEN_BELOW = 8;

interface Match {
  start: number;
  end: number;
  kind: string;
  /** Lower wins when two matches start at the same place with the same length. */
  priority: number;
}

/** Rules and detectors in priority order: on an exact tie the earlier one names the kind. */
const SOURCES: (PatternRule | Detector)[] = [
  ...TOKEN_RULES,
  // Before the key/value rules, so that `aws_secret_access_key = …` and Secret data keep their kind.
  AWS_SECRET_AFTER_NAME,
  K8S_SECRET,
  ...GENERIC_RULES,
  AWS_SECRET_ENTROPY,
];

const isDetector = (s: PatternRule | Detector): s is Detector => "find" in s;

let scanKeywords: KeywordScanner | undefined;

/** Which rule keywords occur in `text` (lowercase). */
function keywordsIn(text: string): Set<string> {
  scanKeywords ??= keywordScanner(SOURCES.flatMap((s) => s.keywords));
  return scanKeywords(text);
}

function runs(source: PatternRule | Detector, present: Set<string>): boolean {
  return source.keywords.length === 0 || source.keywords.some((k) => present.has(k));
}

function spanOf(rule: PatternRule, m: RegExpExecArray): [number, number] | undefined {
  const groups = Array.isArray(rule.group) ? rule.group : [rule.group ?? 0];
  for (const g of groups) {
    if (g === 0) return [m.index, m.index + m[0].length];
    const span = m.indices?.[g];
    if (span) return span;
  }
  return undefined;
}

function ruleMatches(rule: PatternRule, priority: number, text: string, out: Match[]): void {
  const re = rule.re;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    if (rule.notAfter && m.index > 0 && rule.notAfter.test(text[m.index - 1])) continue;
    const span = spanOf(rule, m);
    if (!span || span[1] <= span[0]) continue;
    const c: Candidate = { text, start: span[0], end: span[1], match: m };
    if (rule.accept && !rule.accept(c)) continue;
    if (c.end <= c.start) continue;
    out.push({ start: c.start, end: c.end, kind: typeof rule.kind === "string" ? rule.kind : rule.kind(c), priority });
  }
}

const PLACEHOLDER = /\[REDACTED:[a-z0-9-]{1,40}-\d{1,9}\]/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Builds one alternation of the known secrets, longest first, so a secret containing another wins. */
function knownSecretsRegex(values: readonly (string | undefined | null)[]): { re: RegExp | undefined; longest: number } {
  const unique = [...new Set(values.filter((v): v is string => typeof v === "string").map(stripInvisible))].filter((v) => v.length >= MIN_SECRET_LENGTH);
  if (unique.length === 0) return { re: undefined, longest: 0 };
  unique.sort((a, b) => b.length - a.length);
  const parts = unique.map((v) => {
    const body = escapeRegExp(v);
    if (v.length >= WHOLE_TOKEN_BELOW) return body;
    // Short values only as a whole token, so "abcd" does not punch holes into "abcdef".
    const head = /^[A-Za-z0-9_]/.test(v) ? "(?<![A-Za-z0-9_])" : "";
    const tail = /[A-Za-z0-9_]$/.test(v) ? "(?![A-Za-z0-9_])" : "";
    return head + body + tail;
  });
  return { re: new RegExp(parts.join("|"), "g"), longest: unique[0].length };
}

/**
 * @example
 * const r = createRedactor({ knownSecrets: [apiKey] });
 * r.redact(`curl -H "Authorization: Bearer ${apiKey}"`).text; // → curl -H "Authorization: Bearer [REDACTED:secret-1]"
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const known = knownSecretsRegex(options.knownSecrets ?? []);
  const placeholders = new Map<string, string>();
  const perKind = new Map<string, number>();
  let total = 0;

  function placeholder(kind: string, value: string): string {
    // The same token with or without invisible characters inside is the same secret.
    const key = `${kind}\u0000${hasInvisible(value) ? stripInvisible(value) : value}`;
    let p = placeholders.get(key);
    if (!p) {
      const n = (perKind.get(kind) ?? 0) + 1;
      perKind.set(kind, n);
      p = `[REDACTED:${kind}-${n}]`;
      placeholders.set(key, p);
    }
    return p;
  }

  function findMatches(text: string): Match[] {
    const { clean, toOriginal } = normalize(text);
    const inClean: Match[] = [];
    if (known.re) {
      known.re.lastIndex = 0;
      for (const m of clean.matchAll(known.re)) inClean.push({ start: m.index, end: m.index + m[0].length, kind: "secret", priority: 0 });
    }
    const present = keywordsIn(clean);
    SOURCES.forEach((source, i) => {
      if (!runs(source, present)) return;
      if (isDetector(source)) for (const f of source.find(clean)) inClean.push({ start: f.start, end: f.end, kind: source.kind, priority: i + 1 });
      else ruleMatches(source, i + 1, clean, inClean);
    });
    const found = clean === text ? inClean : inClean.map((m) => {
      const [start, end] = toOriginal(m.start, m.end);
      return { ...m, start, end };
    });
    // Idempotence: text that was already redacted (chat redacts hook-added context a second
    // time) keeps its placeholders; `TOKEN=[REDACTED:env-secret-1]` is not a new secret.
    if (text.includes("[REDACTED:")) {
      const held = [...text.matchAll(PLACEHOLDER)].map((m) => [m.index, m.index + m[0].length] as const);
      const overlaps = (m: Match) => held.some(([s, e]) => m.start < e && m.end > s);
      for (let i = found.length - 1; i >= 0; i--) if (overlaps(found[i])) found.splice(i, 1);
    }
    // Earliest first; at the same start the longest; then known secrets before patterns.
    found.sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);
    const chosen: Match[] = [];
    let last: Match | undefined;
    for (const m of found) {
      if (last && m.start < last.end) {
        // Overlap: widen the chosen span so no part of either secret survives.
        if (m.end > last.end) last.end = m.end;
        continue;
      }
      last = { ...m };
      chosen.push(last);
    }
    return chosen;
  }

  function render(text: string, matches: Match[], from: number, to: number, kinds: Record<string, number>): { text: string; count: number } {
    let out = "";
    let pos = from;
    let count = 0;
    for (const m of matches) {
      if (m.end <= from || m.start >= to) continue;
      // A match that began in a stream's already-emitted context: redact what is left of it.
      const start = Math.max(m.start, from);
      out += text.slice(pos, start) + placeholder(m.kind, text.slice(start, m.end));
      pos = m.end;
      count++;
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    }
    out += text.slice(pos, Math.max(pos, to));
    total += count;
    return { text: out, count };
  }

  function redact(text: string): RedactionResult {
    const kinds: Record<string, number> = {};
    if (typeof text !== "string" || text.length === 0) return { text, count: 0, kinds };
    const r = render(text, findMatches(text), 0, text.length, kinds);
    return { text: r.text, count: r.count, kinds };
  }

  function redactDeep<T>(value: T): T {
    const seen = new WeakMap<object, unknown>();
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return redact(v).text;
      if (typeof v !== "object" || v === null) return v;
      if (seen.has(v)) return seen.get(v);
      if (Array.isArray(v)) {
        const copy: unknown[] = [];
        seen.set(v, copy);
        for (const item of v) copy.push(walk(item));
        return copy;
      }
      if (v instanceof Uint8Array) return v;
      if (v instanceof Date) return v;
      const copy: Record<string, unknown> = {};
      seen.set(v, copy);
      for (const [k, item] of Object.entries(v)) copy[k] = walk(item);
      return copy;
    };
    return walk(value) as T;
  }

  // A stream holds back enough text that a secret still arriving is never cut in two, and keeps
  // some already-emitted text as context for patterns like `Authorization: Bearer <token>`.
  const HOLD = Math.max(1024, known.longest * 2);
  const CONTEXT = 256;
  const MAX_PENDING = 64 * 1024;

  function stream(): RedactionStream {
    let text = "";
    let emitted = 0;
    const kinds: Record<string, number> = {};
    return {
      push(chunk: string): string {
        if (!chunk) return "";
        text += chunk;
        let cut = text.length - HOLD;
        if (cut <= emitted) return "";
        // Cut only right after whitespace: every token before the cut is then complete.
        let ws = cut;
        while (ws > emitted && !/\s/.test(text[ws - 1])) ws--;
        if (ws > emitted) cut = ws;
        else if (text.length - emitted < MAX_PENDING) return "";
        const matches = findMatches(text);
        for (const m of matches) if (m.start < cut && m.end > cut) cut = Math.max(emitted, m.start);
        if (cut <= emitted) return "";
        const out = render(text, matches, emitted, cut, kinds).text;
        // Keep some emitted text as context for the next scan.
        const keepFrom = Math.max(0, cut - CONTEXT);
        text = text.slice(keepFrom);
        emitted = cut - keepFrom;
        return out;
      },
      end(): string {
        if (emitted >= text.length) return "";
        const out = render(text, findMatches(text), emitted, text.length, kinds).text;
        text = "";
        emitted = 0;
        return out;
      },
    };
  }

  return {
    redact,
    redactDeep,
    stream,
    get count() {
      return total;
    },
  };
}
