/**
 * deriveKey() is scrypt as RFC 7914 defines it: its test vectors (the first 32 bytes: scrypt's
 * final PBKDF2 makes them independent of the output length), and the same keys as two other
 * implementations for random passphrases and salts at the work factors a vault uses: Deno's
 * node:crypto (its own code, not OpenSSL; Deno is already a pinned devDependency for the smoke
 * test) and the OpenSSL command line.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deriveKey, derivationCount, kdfProblem, newKdf, type KdfParams } from "../../../plugins/vault/crypto.ts";
import { repoRoot } from "../../helpers/binary.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const kdf = (logN: number, r: number, p: number, salt: Buffer): KdfParams => ({ alg: "scrypt", logN, r, p, salt: salt.toString("base64") });

// RFC 7914 §12.
const VECTORS = [
  { pass: "", salt: "", logN: 4, r: 1, p: 1, dk: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
  { pass: "password", salt: "NaCl", logN: 10, r: 8, p: 16, dk: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
  { pass: "pleaseletmein", salt: "SodiumChloride", logN: 14, r: 8, p: 1, dk: "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
  // logN 20 is the largest work factor a vault may ask for: this one proves maxmem allows it.
  { pass: "pleaseletmein", salt: "SodiumChloride", logN: 20, r: 8, p: 1, dk: "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa478e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4" },
];

describe("deriveKey() against RFC 7914", () => {
  it.each(VECTORS)("scrypt($pass, $salt, N=2^$logN, r=$r, p=$p)", async (v) => {
    const key = await deriveKey(v.pass, kdf(v.logN, v.r, v.p, Buffer.from(v.salt)));
    expect(hex(key)).toBe(v.dk.slice(0, 64));
  }, 120_000);
});

function deno(): string {
  const path = join(repoRoot, "node_modules/@deno/linux-x64-glibc/deno");
  if (!existsSync(path)) throw new Error(`Deno is missing at ${path}: run "npm ci" (@deno/linux-x64-glibc is a devDependency)`);
  return path;
}

const denoDir = mkdtempSync(join(tmpdir(), "opsterm-deno-"));

/** Deno's scrypt, fed the passphrase's NFC bytes in hex (what deriveKey hashes). */
function denoScrypt(pass: Buffer, salt: Buffer, logN: number): string {
  const code = `import { scryptSync } from "node:crypto";
const [p, s, n] = Deno.args;
console.log(scryptSync(Buffer.from(p, "hex"), Buffer.from(s, "hex"), 32, { N: 2 ** Number(n), r: 8, p: 1, maxmem: 2 ** 30 }).toString("hex"));`;
  return execFileSync(deno(), ["eval", "--quiet", code, pass.toString("hex"), salt.toString("hex"), String(logN)], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DENO_NO_UPDATE_CHECK: "1", DENO_DIR: denoDir, NO_COLOR: "1" },
  }).trim();
}

function opensslScrypt(pass: Buffer, salt: Buffer, logN: number): string {
  const out = execFileSync("openssl", ["kdf", "-keylen", "32", "-kdfopt", `hexpass:${pass.toString("hex")}`, "-kdfopt", `hexsalt:${salt.toString("hex")}`, "-kdfopt", `n:${2 ** logN}`, "-kdfopt", "r:8", "-kdfopt", "p:1", "-kdfopt", "maxmem_bytes:1073741824", "SCRYPT"], { encoding: "utf8" });
  return out.trim().replace(/:/g, "").toLowerCase();
}

describe("deriveKey() against independent implementations", () => {
  // Passphrases with non-ASCII letters (NFC), spaces and quotes; 32-byte random salts like a vault's.
  const cases = [15, 15, 17].map((logN, i) => ({ logN, label: ["accented", "quotes and backslash", "Japanese"][i], pass: [`pässwörd ${i}`, `"quoted" 'and' \\ ${randomBytes(6).toString("base64")}`, `日本語のパス${randomBytes(4).toString("hex")}`][i], salt: randomBytes(32) }));

  it.each(cases)("logN $logN, $label passphrase: Deno (independent code) and openssl agree", async ({ logN, pass, salt }) => {
    const ours = hex(await deriveKey(pass, kdf(logN, 8, 1, salt)));
    const bytes = Buffer.from(pass.normalize("NFC"), "utf8");
    expect(denoScrypt(bytes, salt, logN)).toBe(ours);
    expect(opensslScrypt(bytes, salt, logN)).toBe(ours);
  }, 120_000);

  it("the passphrase is NFC-normalised: a decomposed é gives the same key as a composed one", async () => {
    const params = kdf(15, 8, 1, randomBytes(32));
    expect(hex(await deriveKey("caf\u0065\u0301", params))).toBe(hex(await deriveKey("caf\u00e9", params)));
  }, 60_000);
});

describe("kdfProblem()", () => {
  const salt = randomBytes(32).toString("base64");
  it.each([
    { logN: 14, ok: false },
    { logN: 15, ok: true },
    { logN: 17, ok: true },
    { logN: 20, ok: true },
    { logN: 21, ok: false },
    { logN: 16.5, ok: false },
  ])("logN $logN is accepted in production: $ok", ({ logN, ok }) => {
    expect(kdfProblem({ alg: "scrypt", logN, r: 8, p: 1, salt }) === undefined).toBe(ok);
  });

  it("refuses r and p out of range, too much memory, an unknown algorithm and a short salt", () => {
    expect(kdfProblem({ alg: "scrypt", logN: 17, r: 0, p: 1, salt })).toMatch(/r 0/);
    expect(kdfProblem({ alg: "scrypt", logN: 17, r: 8, p: 5, salt })).toMatch(/p 5/);
    expect(kdfProblem({ alg: "scrypt", logN: 20, r: 16, p: 1, salt })).toMatch(/1 GiB/);
    expect(kdfProblem({ alg: "argon2" as "scrypt", logN: 17, r: 8, p: 1, salt })).toMatch(/argon2/);
    expect(kdfProblem({ alg: "scrypt", logN: 17, r: 8, p: 1, salt: randomBytes(8).toString("base64") })).toMatch(/salt/);
  });

  it("newKdf() makes production parameters: logN 17, r 8, p 1, a fresh 32-byte salt", () => {
    const a = newKdf();
    expect(a).toMatchObject({ alg: "scrypt", logN: 17, r: 8, p: 1 });
    expect(Buffer.from(a.salt, "base64")).toHaveLength(32);
    expect(newKdf().salt).not.toBe(a.salt);
    expect(kdfProblem(a)).toBeUndefined();
  });

  it("derivationCount() counts each derivation", async () => {
    const before = derivationCount();
    await deriveKey("x", kdf(4, 1, 1, randomBytes(16)));
    expect(derivationCount()).toBe(before + 1);
  });
});
