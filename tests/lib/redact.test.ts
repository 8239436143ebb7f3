import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRedactor, MIN_SECRET_LENGTH } from "../../src/lib/redact.ts";

// Fixtures: tests/lib/redact-fixtures/<kind>/{positive,negative}.txt, cases separated by a line
// "%%". In positive cases the secret is marked «like this»; everything else must survive as is.
const FIXTURES = join(import.meta.dirname, "redact-fixtures");
const kinds = readdirSync(FIXTURES).sort();

function cases(kind: string, file: string): string[] {
  return readFileSync(join(FIXTURES, kind, file), "utf8").replace(/\n$/, "").split("\n%%\n");
}

function parse(marked: string): { text: string; secrets: string[] } {
  const parts = marked.split(/«|»/);
  return { text: parts.join(""), secrets: parts.filter((_, i) => i % 2 === 1) };
}

function expectedShape(marked: string, kind: string): RegExp {
  const parts = marked.split(/«|»/);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${parts.map((p, i) => (i % 2 === 1 ? `\\[REDACTED:${kind}-\\d+\\]` : escape(p))).join("")}$`);
}

const positive = kinds.flatMap((kind) => cases(kind, "positive.txt").map((marked, i) => ({ kind, i, marked })));
const negative = kinds.flatMap((kind) => cases(kind, "negative.txt").map((text, i) => ({ kind, i, text })));

const FILLER = Array.from({ length: 300 }, (_, i) => `word${i % 17} `).join("");

describe("redactor fixtures", () => {
  it("has positive and negative fixtures for every kind", () => {
    expect(kinds.length).toBeGreaterThanOrEqual(14);
    for (const kind of kinds) {
      expect(cases(kind, "positive.txt").length, kind).toBeGreaterThan(0);
      expect(cases(kind, "negative.txt").length, kind).toBeGreaterThan(0);
    }
  });

  it.each(positive)("redact() replaces the $kind secret in positive case $i and keeps the rest", ({ kind, marked }) => {
    const { text, secrets } = parse(marked);
    const result = createRedactor().redact(text);
    expect(result.text).toMatch(expectedShape(marked, kind));
    for (const s of secrets) expect(result.text).not.toContain(s);
    expect(result.count).toBe(secrets.length);
    expect(result.kinds[kind]).toBe(secrets.length);
  });

  it.each(positive)("redact() is idempotent on the output of $kind case $i (placeholders are not secrets)", ({ marked }) => {
    const r = createRedactor();
    const once = r.redact(parse(marked).text).text;
    expect(r.redact(once)).toEqual({ text: once, count: 0, kinds: {} });
  });

  it.each(negative)("redact() leaves $kind negative case $i untouched", ({ text }) => {
    const result = createRedactor().redact(text);
    expect(result.text).toBe(text);
    expect(result.count).toBe(0);
  });

  it.each(positive)("stream() catches the $kind secret of case $i split across chunks", ({ marked }) => {
    const { text: inner, secrets } = parse(marked);
    const text = FILLER + inner + "\n" + FILLER;
    const whole = createRedactor().redact(text).text;
    const secretAt = text.indexOf(secrets[0]);
    // Every split point through the secret and its context, plus a few chunk sizes.
    const splits: number[][] = [];
    for (let at = Math.max(0, secretAt - 40); at <= Math.min(text.length, secretAt + secrets[0].length + 2); at++) splits.push([at]);
    for (const size of [3, 64, 700]) splits.push(Array.from({ length: Math.ceil(text.length / size) }, (_, k) => k * size).slice(1));
    for (const points of splits) {
      const s = createRedactor().stream();
      let out = "";
      let prev = 0;
      for (const p of [...points, text.length]) {
        out += s.push(text.slice(prev, p));
        prev = p;
      }
      out += s.end();
      for (const secret of secrets) expect(out, `split at ${points.slice(0, 3)}`).not.toContain(secret);
      expect(out).toBe(whole);
    }
  });
});

describe("createRedactor() known secrets", () => {
  it("redact() gives the same value the same placeholder and different values different ones", () => {
    const r = createRedactor({ knownSecrets: ["hunter2-longvalue", "s3cr3t-other-value"] });
    const a = r.redact("x hunter2-longvalue y hunter2-longvalue");
    expect(a.text).toBe("x [REDACTED:secret-1] y [REDACTED:secret-1]");
    expect(r.redact("s3cr3t-other-value").text).toBe("[REDACTED:secret-2]");
    expect(r.redact("again hunter2-longvalue").text).toBe("again [REDACTED:secret-1]");
    expect(r.count).toBe(4);
  });

  it("redact() finds known values even inside longer words and wins over patterns", () => {
    const key = "sk-" + "A".repeat(30);
    const r = createRedactor({ knownSecrets: [key, "zzlongsecretzz"] });
    expect(r.redact(`Bearer ${key}`).text).toBe("Bearer [REDACTED:secret-1]");
    expect(r.redact("prefixzzlongsecretzzsuffix").text).toBe("prefix[REDACTED:secret-2]suffix");
  });

  it(`redact() ignores known secrets shorter than ${MIN_SECRET_LENGTH} characters`, () => {
    const r = createRedactor({ knownSecrets: ["a", "ab", "abc", "", null, undefined] });
    const text = "a cab abc ab";
    expect(r.redact(text)).toEqual({ text, count: 0, kinds: {} });
  });

  it("redact() matches short known secrets (4-7 chars) only as whole tokens", () => {
    const r = createRedactor({ knownSecrets: ["pass", "x-1!"] });
    expect(r.redact("password passes pass, (pass) bypass").text).toBe("password passes [REDACTED:secret-1], ([REDACTED:secret-1]) bypass");
    expect(r.redact("val=x-1!").text).toBe("val=[REDACTED:secret-2]");
  });

  it("redact() prefers the longest of overlapping known secrets", () => {
    const r = createRedactor({ knownSecrets: ["abcdefgh", "abcdefghijkl"] });
    expect(r.redact("abcdefghijkl").text).toBe("[REDACTED:secret-1]");
  });

  it("redact() treats regex metacharacters in known secrets literally", () => {
    const r = createRedactor({ knownSecrets: ["a.b*c+d?(e)[f]{g}|h\\i$"] });
    expect(r.redact("xx a.b*c+d?(e)[f]{g}|h\\i$ yy").text).toBe("xx [REDACTED:secret-1] yy");
    expect(r.redact("aXbbbcddd").count).toBe(0);
  });

  it("stream() catches a known secret split one character at a time", () => {
    const secret = "correct horse battery staple";
    const r = createRedactor({ knownSecrets: [secret] });
    const s = r.stream();
    const text = FILLER + secret + FILLER + secret;
    let out = "";
    for (const ch of text) out += s.push(ch);
    out += s.end();
    expect(out).not.toContain(secret);
    expect(out.split("[REDACTED:secret-1]").length).toBe(3);
    expect(out.length).toBe(text.length - 2 * secret.length + 2 * "[REDACTED:secret-1]".length);
  });

  it("stream() emits text before the end once enough arrived (no unbounded buffering)", () => {
    const s = createRedactor().stream();
    const early = s.push(FILLER.repeat(4));
    expect(early.length).toBeGreaterThan(0);
    expect(early + s.end()).toBe(FILLER.repeat(4));
  });
});

describe("createRedactor().redactDeep()", () => {
  it("redactDeep() redacts strings in nested objects and arrays without mutating the input", () => {
    const input = { cmd: "PGPASSWORD=hunter22 psql", nested: { list: ["ok", "token ghp_" + "a".repeat(36)], n: 3, b: true, z: null } };
    const r = createRedactor();
    const out = r.redactDeep(input);
    expect(out).toEqual({ cmd: "PGPASSWORD=[REDACTED:env-secret-1] psql", nested: { list: ["ok", "token [REDACTED:github-token-1]"], n: 3, b: true, z: null } });
    expect(input.cmd).toBe("PGPASSWORD=hunter22 psql");
    expect(r.count).toBe(2);
  });

  it("redactDeep() survives cycles", () => {
    const a: Record<string, unknown> = { s: "MYSQL_PWD=abcdef" };
    a.self = a;
    const out = createRedactor().redactDeep(a) as Record<string, unknown>;
    expect(out.s).toBe("MYSQL_PWD=[REDACTED:env-secret-1]");
    expect(out.self).toBe(out);
  });
});

describe("redactor performance", () => {
  it("redact() handles 1 MB of mixed text quickly", () => {
    const r = createRedactor({ knownSecrets: Array.from({ length: 200 }, (_, i) => `vault-value-${i}-${"x".repeat(10)}`) });
    const line = `GET /api?x=1 200 user=deploy host=web-1 AKIAIOSFODNN7EXAMPLE took 3ms vault-value-7-xxxxxxxxxx\n`;
    const text = line.repeat(Math.ceil(1_000_000 / line.length));
    const t0 = performance.now();
    const out = r.redact(text);
    const ms = performance.now() - t0;
    expect(out.count).toBe(2 * Math.ceil(1_000_000 / line.length));
    expect(ms).toBeLessThan(1500);
  });

  it.each([
    ["unterminated PEM headers", "-----BEGIN RSA PRIVATE KEY-----\n".repeat(2000)],
    ["PEM with the wrong END", "-----BEGIN RSA PRIVATE KEY-----" + "-----END RSA PUBLIC KEY-----".repeat(3000)],
    ["scheme without @", "a://" + "x:".repeat(50_000)],
    ["many half JWTs", "eyJaaaaaaaaaa.".repeat(20_000)],
    ["long assignments", "A_TOKEN=".repeat(20_000)],
    ["many dashes", "-".repeat(200_000)],
    ["authorization spam", "authorization: ".repeat(20_000)],
  ])("redact() stays linear on %s", (_name, text) => {
    const t0 = performance.now();
    createRedactor().redact(text);
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
