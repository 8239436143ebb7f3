import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRedactor, MIN_SECRET_LENGTH } from "../../src/lib/redact.ts";
import { AWS_SECRET_ENTROPY, K8S_SECRET } from "../../src/lib/redact/detectors.ts";
import { GENERIC_RULES } from "../../src/lib/redact/generic.ts";
import { keywordScanner } from "../../src/lib/redact/keywords.ts";
import { AWS_SECRET_AFTER_NAME, TOKEN_RULES } from "../../src/lib/redact/rules.ts";

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
    expect(kinds.length).toBeGreaterThanOrEqual(59);
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
    ["key/value keywords without values", "password token secret api_key auth ".repeat(20_000)],
    ["separators after a keyword", "password" + " ".repeat(200_000) + "x"],
    ["keys glued to keys", "x_password_token_secret_key=".repeat(20_000)],
    ["a long value after a key", "PASSWORD: " + "a b ".repeat(100_000)],
    ["curl without -u", "curl " + "-H x ".repeat(50_000)],
    ["many mysql words", "mysql -h db ".repeat(40_000)],
    ["URL userinfo full of @", "https://u:" + "p@".repeat(100_000)],
    ["URLs without a host end", "s://a:b@c".repeat(30_000)],
    ["a private-key signature and a huge body", "MIIEvQIBADAN" + "A".repeat(500_000)],
    ["many private-key signatures", "MHcCAQEE\n".repeat(30_000)],
    ["base64 lines that never end", ("A".repeat(64) + "\n").repeat(10_000)],
    ["tokens of exactly 40 characters", ("Ab3/" + "x".repeat(36) + " ").repeat(20_000)],
    ["random 40-character tokens", Array.from({ length: 10_000 }, (_, i) => Buffer.from(String(i).repeat(30)).toString("base64").slice(0, 40)).join(" ")],
    ["a Kubernetes Secret with a huge data block", "kind: Secret\ndata:\n" + "  k: dmFsdWU=\n".repeat(50_000)],
    ["a JSON Secret without the closing brace", '{"kind":"Secret","data":{' + '"k":"v",'.repeat(50_000)],
    ["docker auth keys without values", '"auth":'.repeat(50_000)],
    ["telegram-like colons", "123456789:AA".repeat(30_000)],
    ["invisible characters everywhere", "ghp_\u200b".repeat(50_000)],
    ["htpasswd without arguments", "htpasswd -b ".repeat(30_000)],
  ])("redact() stays linear on %s", (_name, text) => {
    const t0 = performance.now();
    createRedactor().redact(text);
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});

describe("redactor rules", () => {
  const rules = [...TOKEN_RULES, AWS_SECRET_AFTER_NAME, ...GENERIC_RULES];

  it("every rule is global, has match indices when it captures, uses no inline flags, and has keywords", () => {
    for (const rule of rules) {
      expect(rule.re.global, rule.re.source).toBe(true);
      const captures = Array.isArray(rule.group) ? rule.group.some((g) => g !== 0) : (rule.group ?? 0) !== 0;
      expect(rule.re.hasIndices, rule.re.source).toBe(captures);
      // Node 20 (the test runtime) rejects (?i) and (?i:…); the binary's Node 24 would accept them.
      expect(rule.re.source, rule.re.source).not.toMatch(/\(\?[imsx-]+[:)]/);
      expect(rule.keywords.length, rule.re.source).toBeGreaterThan(0);
      for (const k of rule.keywords) expect(k).toBe(k.toLowerCase());
    }
  });

  it("every kind a rule or detector can produce has a fixture folder", () => {
    const produced = new Set([...rules.filter((r) => typeof r.kind === "string").map((r) => r.kind as string), AWS_SECRET_ENTROPY.kind, K8S_SECRET.kind, "json-secret", "env-secret", "yaml-secret", "header-secret"]);
    for (const kind of produced) expect(kinds, kind).toContain(kind);
  });

  it("keywordScanner() finds keywords case-insensitively, overlapping and nested", () => {
    const scan = keywordScanner(["abc", "bcd", "b", "password", "sk_live", "-----begin"]);
    expect([...scan("xABCDx")].sort()).toEqual(["abc", "b", "bcd"]);
    expect([...scan("DB_PASSWORD=1 and -----BEGIN x")].sort()).toEqual(["-----begin", "b", "password"]);
    expect(scan("nothing here")).toEqual(new Set());
  });
});

// The findings of issue 8 §5: each reached the provider and history/audit unredacted.
const ISSUE_8_FINDINGS: { name: string; text: string; secret: string; kind: string }[] = [
  { name: "mysql -pPASS", text: "mysql -h db-1 -u app -pS3cretPassw0rd app", secret: "S3cretPassw0rd", kind: "cli-password" },
  { name: "curl -u user:pass", text: "curl -u deploy:tH8LmyqoYMaa https://ci.example.com", secret: "tH8LmyqoYMaa", kind: "cli-password" },
  { name: "sshpass -p", text: "sshpass -p hunter2hunter ssh deploy@web-1", secret: "hunter2hunter", kind: "cli-password" },
  { name: "YAML PASSWORD: x", text: "db:\n  PASSWORD: x\n", secret: "x", kind: "yaml-secret" },
  { name: "sk_live_…", text: "stripe sk_live_u8jzPde0IgxLd6GncfBAepfJ", secret: "sk_live_u8jzPde0IgxLd6GncfBAepfJ", kind: "stripe-key" },
  { name: "AIza…", text: "key=AIza2hpChYgCfrL1spNxnyVmihA-2O76UMFxFkM", secret: "AIza2hpChYgCfrL1spNxnyVmihA-2O76UMFxFkM", kind: "google-api-key" },
  { name: "hf_…", text: "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", secret: "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", kind: "huggingface-token" },
  { name: "npm_…", text: "npm_1f8rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsi", secret: "npm_1f8rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsi", kind: "npm-token" },
  { name: "ya29.…", text: "token ya29.a0AfB_byC3x9L2mN8pQ4rS7tU1vW6yZ0aB5cD", secret: "ya29.a0AfB_byC3x9L2mN8pQ4rS7tU1vW6yZ0aB5cD", kind: "google-oauth-token" },
  { name: "Azure AccountKey=", text: "AccountName=x;AccountKey=9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT6==;EndpointSuffix=core.windows.net", secret: "9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT6==", kind: "azure-key" },
  { name: 'docker config "auth"', text: '{"auths":{"r.example.com":{"auth":"ZGVwbG95OnMzY3JldA=="}}}', secret: "ZGVwbG95OnMzY3JldA==", kind: "docker-auth" },
  { name: "base64 k8s secret password:", text: "kind: Secret\ndata:\n  password: cGFzc3dvcmQxMjM=\n", secret: "cGFzc3dvcmQxMjM=", kind: "k8s-secret" },
  { name: "X-API-Key: header", text: "curl -H 'X-API-Key: dlm7tOtHWnsCGRlrwZbqcabUGJmGEp7C' https://x", secret: "dlm7tOtHWnsCGRlrwZbqcabUGJmGEp7C", kind: "header-secret" },
  { name: "an AWS secret without its key name", text: "creds deploy wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", kind: "aws-secret" },
  { name: "a PEM body without its header", text: "key: MHcCAQEEIPlTxrLvjsNivo4qqYw5IrzJ4Z6ULByMq8mK2pLx0Qw9eRt5yUi7oP3aS1dF6gH4jKlZ3Dqw", secret: "MHcCAQEEIPlTxrLvjsNivo4qqYw5IrzJ4Z6ULByMq8mK2pLx0Qw9eRt5yUi7oP3aS1dF6gH4jKlZ3Dqw", kind: "private-key" },
  { name: "a token split by a zero-width character", text: "token ghp_0OGr4hTxoF54Fzbka8\u200bFRCztUjAwyuh1vauWv", secret: "ghp_0OGr4hTxoF54Fzbka8\u200bFRCztUjAwyuh1vauWv", kind: "github-token" },
  { name: "a URL password containing a raw @", text: "mongodb://admin:p@ssw0rd@db-1:27017/admin", secret: "p@ssw0rd", kind: "url-password" },
];

describe("issue 8 §5 findings", () => {
  it.each(ISSUE_8_FINDINGS)("redact() replaces $name with a $kind placeholder", ({ text, secret, kind }) => {
    const r = createRedactor().redact(text);
    expect(r.kinds[kind], r.text).toBeGreaterThanOrEqual(1);
    expect(r.text).toBe(text.replace(secret, `[REDACTED:${kind}-1]`));
  });
});

describe("invisible characters", () => {
  const INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u{e0020}"];
  const token = "ghp_0OGr4hTxoF54Fzbka8FRCztUjAwyuh1vauWv";

  it.each(INVISIBLE.map((ch) => ({ ch, code: ch.codePointAt(0)!.toString(16) })))("redact() sees through U+$code inside a token and replaces the whole token", ({ ch }) => {
    const split = token.slice(0, 10) + ch + token.slice(10, 25) + ch + ch + token.slice(25);
    const r = createRedactor();
    const out = r.redact(`before ${split} after`).text;
    expect(out).toBe("before [REDACTED:github-token-1] after");
    // The same token without invisible characters gets the same placeholder.
    expect(r.redact(token).text).toBe("[REDACTED:github-token-1]");
  });

  it("redact() sees through invisible characters in keys, values and known secrets", () => {
    const r = createRedactor({ knownSecrets: ["vault-value-abcdef"] });
    const out = r.redact("PASS\u200bWORD=hun\u200dter2x and vault-\u2060value-abcdef").text;
    expect(out).toBe("PASS\u200bWORD=[REDACTED:env-secret-1] and [REDACTED:secret-1]");
  });

  it("redact() keeps invisible characters outside secrets as they are", () => {
    const text = "no\u200bsecret\ufeff here";
    expect(createRedactor().redact(text)).toEqual({ text, count: 0, kinds: {} });
  });

  it("stream() sees through an invisible character at a chunk boundary", () => {
    const s = createRedactor().stream();
    const text = FILLER + token.slice(0, 20) + "\u200b" + token.slice(20) + " " + FILLER;
    let out = "";
    for (let i = 0; i < text.length; i += 7) out += s.push(text.slice(i, i + 7));
    out += s.end();
    expect(out).toContain("[REDACTED:github-token-1]");
    expect(out).not.toContain(token.slice(0, 12));
    expect(out).not.toContain(token.slice(24));
  });
});
