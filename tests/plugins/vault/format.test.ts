/**
 * vault.enc's format: a round trip, the header sealed inside, the work-factor floor, and every
 * single-bit flip of a real file refused with nothing decrypted, both as damage (the checksum,
 * exit 65) and as an attack that recomputes the checksum (the MAC and the sealed header copy).
 *
 * Files here are sealed at logN 10 so a few thousand opens take seconds: the limits that allow
 * it are passed explicitly (a test-only path); production code only ever uses KDF_LIMITS (15..20),
 * and the last tests show such a file refused under them.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKey, derivationCount, KDF_LIMITS, newKdf, type KdfLimits, type KdfParams } from "../../../plugins/vault/crypto.ts";
import { openVault, parseVault, sealVault, type Entries } from "../../../plugins/vault/format.ts";
import type { VaultEntry } from "../../../plugins/vault/types.ts";

const TEST_LIMITS: KdfLimits = { minLogN: 10, maxLogN: 20 };
const FILE = "vault.enc";
const entry = (value: string): VaultEntry => ({ value, created: "2026-01-01T00:00:00.000Z", updated: "2026-01-02T00:00:00.000Z" });

async function sealed(entries: Entries, passphrase = "pw", logN = 10): Promise<{ text: string; kdf: KdfParams; key: Uint8Array }> {
  const kdf = newKdf(logN);
  const key = await deriveKey(passphrase, kdf);
  return { text: sealVault(entries, kdf, key), kdf, key };
}

const reseal = (headerLine: string, boxLine: string) => {
  const body = `${headerLine}\n${boxLine}\n`;
  return `${body}sha256:${createHash("sha256").update(body).digest("hex")}\n`;
};

describe("sealVault() / parseVault() / openVault()", () => {
  it("round-trips entries, with a fresh nonce on every write", async () => {
    const entries: Entries = new Map([
      ["db_password", { ...entry("p'a\"s\n$s"), note: "prod" }],
      ["__proto__", entry("not a prototype")],
      ["tls.key", entry("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")],
    ]);
    const { text, kdf, key } = await sealed(entries);
    expect(text.split("\n")).toHaveLength(4);
    const opened = openVault(parseVault(text, FILE, TEST_LIMITS), key, FILE, "test");
    expect([...opened]).toEqual([...entries]);
    expect(Object.getPrototypeOf(Object.fromEntries(opened))).toBe(Object.prototype);
    expect(sealVault(entries, kdf, key).split("\n")[0]).not.toBe(text.split("\n")[0]);
  });

  it("a wrong key is a wrong passphrase (77), with no detail", async () => {
    const { text, kdf } = await sealed(new Map([["a", entry("secret-value")]]));
    const other = await deriveKey("not pw", kdf);
    expect(() => openVault(parseVault(text, FILE, TEST_LIMITS), other, FILE, "OPSTERM_VAULT_PASSWORD")).toThrow(
      expect.objectContaining({ code: "E_VAULT_PASSPHRASE", exitCode: 77, message: "Wrong vault passphrase (from OPSTERM_VAULT_PASSWORD)" }),
    );
  });

  it("a box whose sealed header copy differs from the outer header is refused (65), even with the right key", async () => {
    const { kdf, key } = await sealed(new Map());
    // A box sealed with a header copy claiming logN 11, under an outer header saying logN 10 (same key and nonce).
    const [headerLine] = sealVault(new Map([["a", entry("secret-value")]]), kdf, key).split("\n");
    const header = JSON.parse(headerLine);
    const forged = JSON.stringify({ ...header, kdf: { ...header.kdf, logN: 11 } });
    const nacl = (await import("tweetnacl")).default;
    const inner = new TextEncoder().encode(JSON.stringify({ header: JSON.parse(forged), entries: {} }));
    const box = nacl.secretbox(inner, Buffer.from(header.nonce, "base64"), key);
    const text = reseal(headerLine, Buffer.from(box).toString("base64"));
    expect(() => openVault(parseVault(text, FILE, TEST_LIMITS), key, FILE, "test")).toThrow(expect.objectContaining({ code: "E_VAULT_DAMAGED", exitCode: 65, message: expect.stringMatching(/header differs/) }));
  });

  it.each([14, 21, 30])("production limits refuse a file asking for logN %i before deriving anything (65)", async (logN) => {
    const { text } = await sealed(new Map(), "pw", 10);
    const [headerLine, boxLine] = text.split("\n");
    const header = JSON.parse(headerLine);
    const downgraded = reseal(JSON.stringify({ ...header, kdf: { ...header.kdf, logN } }), boxLine);
    const before = derivationCount();
    expect(() => parseVault(downgraded, FILE)).toThrow(expect.objectContaining({ code: "E_VAULT_KDF", exitCode: 65 }));
    expect(derivationCount()).toBe(before);
  });

  it("production limits are 15..20 and refuse the test files' logN 10", async () => {
    expect(KDF_LIMITS).toEqual({ minLogN: 15, maxLogN: 20 });
    const { text } = await sealed(new Map());
    expect(() => parseVault(text, FILE)).toThrow(expect.objectContaining({ code: "E_VAULT_KDF" }));
  });

  it.each([
    ["an empty file", ""],
    ["two lines", "{}\nabc\n"],
    ["a missing final newline", "a\nb\nsha256:00"],
  ])("refuses %s as damaged (65)", (_, text) => {
    expect(() => parseVault(text, FILE, TEST_LIMITS)).toThrow(expect.objectContaining({ code: "E_VAULT_DAMAGED", exitCode: 65 }));
  });
});

describe("every single-bit flip of vault.enc", () => {
  /** A small real vault: one entry, ~600 bytes, ~4,800 flips. */
  async function smallVault() {
    const value = `secret-${randomBytes(8).toString("hex")}`;
    const { text, key } = await sealed(new Map([["db", entry(value)]]), "pw", 10);
    return { bytes: Buffer.from(text), key, value };
  }

  function* flips(bytes: Buffer): Generator<{ at: number; bit: number; flipped: Buffer }> {
    for (let at = 0; at < bytes.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[at] ^= 1 << bit;
        yield { at, bit, flipped };
      }
    }
  }

  it("is refused as damage (65) before any key is derived", async () => {
    const { bytes } = await smallVault();
    const before = derivationCount();
    let count = 0;
    for (const { at, bit, flipped } of flips(bytes)) {
      let error: { code?: string; exitCode?: number } | undefined;
      try {
        parseVault(flipped.toString("utf8"), FILE, TEST_LIMITS);
      } catch (e) {
        error = e as typeof error;
      }
      expect(error?.exitCode, `byte ${at} bit ${bit}`).toBe(65);
      count++;
    }
    expect(count).toBe(bytes.length * 8);
    expect(derivationCount()).toBe(before);
  });

  it("is refused even when the attacker recomputes the checksum: nothing is ever decrypted", async () => {
    const { bytes, value } = await smallVault();
    const text = bytes.toString("utf8");
    const sumStart = text.lastIndexOf("sha256:");
    // Keys per kdf line: flips in the box, the nonce or the checksum reuse the one derivation.
    const keys = new Map<string, Promise<Uint8Array>>();
    const outcomes = new Map<string, number>();
    for (const { at, flipped } of flips(bytes.subarray(0, sumStart))) {
      const [headerLine, boxLine] = flipped.toString("latin1").split("\n");
      let code: string;
      try {
        const parsed = parseVault(reseal(headerLine ?? "", boxLine ?? ""), FILE, TEST_LIMITS);
        const id = JSON.stringify(parsed.header.kdf);
        if (!keys.has(id)) keys.set(id, deriveKey("pw", parsed.header.kdf));
        const opened = openVault(parsed, await keys.get(id)!, FILE, "test");
        throw new Error(`byte ${at}: a flipped file opened and gave ${opened.size} entries (${[...opened.values()].some((e) => e.value === value) ? "with" : "without"} the value)`);
      } catch (error) {
        code = (error as { code?: string }).code ?? String(error);
      }
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
    // Damage, a refused work factor, or a MAC that does not verify: those are the only outcomes.
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(["E_VAULT_DAMAGED", "E_VAULT_PASSPHRASE"]));
    for (const code of outcomes.keys()) expect(["E_VAULT_DAMAGED", "E_VAULT_KDF", "E_VAULT_PASSPHRASE"]).toContain(code);
  }, 120_000);
});
