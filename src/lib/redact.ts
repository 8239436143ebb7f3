/**
 * The shared redactor: replaces secrets with stable placeholders before text is persisted (audit,
 * history) or sent to an AI provider (chat). Two sources of truth:
 * - known secret values (API keys, vault values from the `secretValues` hook), and
 * - gitleaks-style patterns (cloud keys, tokens, private keys, credentials in URLs, headers, argv
 *   and environment assignments).
 * All matches are collected in one pass over the text, overlaps are resolved, and the text is
 * rebuilt once, so a placeholder is never itself re-redacted. Every pattern is linear: bounded
 * character classes after a literal prefix, no nested quantifiers.
 */

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

interface Rule {
  kind: string;
  re: RegExp;
  /** Index of the capture group holding the secret part; 0 = the whole match. */
  group: number;
}

// Each regex must be global + `d` (indices) so the captured secret's span is known.
const RULES: Rule[] = [
  // PEM private key blocks, whole block; an unterminated block runs to the end of the text (and
  // holds a stream back until its END line arrives).
  { kind: "private-key", re: /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----END))*(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/dg, group: 0 },
  { kind: "aws-key", re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/dg, group: 0 },
  // AWS secret access keys have no prefix: only in context (aws_secret_access_key = …).
  { kind: "aws-secret", re: /aws_?secret(?:_?access)?_?key["']?\s{0,5}[:=]\s{0,5}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi, group: 1 },
  { kind: "github-token", re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/dg, group: 0 },
  { kind: "gitlab-token", re: /(?<![A-Za-z0-9_])gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{20,255}(?![A-Za-z0-9_-])/dg, group: 0 },
  { kind: "slack-token", re: /(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,255}(?![A-Za-z0-9-])/dg, group: 0 },
  { kind: "slack-webhook", re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_-]{20,255}/dg, group: 0 },
  { kind: "openai-key", re: /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{20,255}(?![A-Za-z0-9_-])/dg, group: 0 },
  { kind: "jwt", re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{0,2048}(?![A-Za-z0-9_-])/dg, group: 0 },
  // Authorization: Bearer <token> / Basic <b64>; other schemes: the rest of the value.
  { kind: "auth-header", re: /(?:proxy-)?authorization["']?\s{0,5}[:=]\s{0,5}["']?(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s{1,5})?([^\s"',;]{1,4096}(?:,\s{0,3}[A-Za-z]{1,20}=[^\s"',;]{1,512}){0,8})/dgi, group: 1 },
  // scheme://user:pass@host: keep the user, redact the password.
  { kind: "url-password", re: /[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s:/@"'<>]{0,256}:([^\s/@"'<>]{1,256})@/dg, group: 1 },
  // --password=x, --password x, --token 'x' …
  { kind: "cli-password", re: /(?<![A-Za-z0-9_-])--(?:password|passwd|pass|passphrase|token|secret|api-key|apikey|access-token|auth-token|client-secret)(?:=|\s{1,5})("[^"\n]{1,1024}"|'[^'\n]{1,1024}'|[^\s"'][^\s]{0,1023})/dgi, group: 1 },
  // PGPASSWORD=x, MYSQL_PWD=x, FOO_TOKEN=x, FOO_SECRET=x, db_password=x … Values that are
  // references ($VAR, ${VAR}, <your-token>, (set in vault)) are not secrets and stay.
  {
    kind: "env-secret",
    re: /(?<![A-Za-z0-9_])(?:PGPASSWORD|MYSQL_PWD|REDISCLI_AUTH|PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|[A-Za-z0-9_]{0,64}_(?:TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS))\s{0,3}=\s{0,3}("[^"\n]{1,1024}"|'[^'\n]{1,1024}'|[^\s"';&|$<({][^\s;&|]{0,1023})/dgi,
    group: 1,
  },
  // JSON/YAML-ish quoted keys: "password": "x", "client_secret": "x".
  { kind: "json-secret", re: /"(?:password|passwd|secret|client_secret|token|access_token|refresh_token|api_key|apikey|private_key)"\s{0,5}:\s{0,5}"((?:[^"\\\n]|\\.){1,4096})"/dgi, group: 1 },
];

const PLACEHOLDER = /\[REDACTED:[a-z0-9-]{1,40}-\d{1,9}\]/g;

const PRIORITY = new Map(RULES.map((r, i) => [r.kind, i + 1]));

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Builds one alternation of the known secrets, longest first, so a secret containing another wins. */
function knownSecretsRegex(values: readonly (string | undefined | null)[]): { re: RegExp | undefined; longest: number } {
  const unique = [...new Set(values.filter((v): v is string => typeof v === "string" && v.length >= MIN_SECRET_LENGTH))];
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
    const key = `${kind}\u0000${value}`;
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
    const found: Match[] = [];
    if (known.re) {
      known.re.lastIndex = 0;
      for (const m of text.matchAll(known.re)) found.push({ start: m.index, end: m.index + m[0].length, kind: "secret", priority: 0 });
    }
    for (const rule of RULES) {
      rule.re.lastIndex = 0;
      for (const m of text.matchAll(rule.re)) {
        const span = m.indices?.[rule.group];
        if (!span || span[1] <= span[0]) continue;
        found.push({ start: span[0], end: span[1], kind: rule.kind, priority: PRIORITY.get(rule.kind)! });
      }
    }
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
