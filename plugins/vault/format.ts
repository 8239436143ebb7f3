/**
 * vault.enc, three lines of ASCII:
 *
 *   {"v":1,"kdf":{"alg":"scrypt","logN":17,"r":8,"p":1,"salt":"…"},"nonce":"…"}
 *   <base64 of secretbox({ header, entries }, nonce, scrypt(passphrase, kdf))>
 *   sha256:<hex of the two lines above, newlines included>
 *
 * The checksum only tells damage (a flipped bit, a truncated copy: exit 65) from a wrong
 * passphrase (exit 77) before any work is done; it protects nothing, anyone can recompute it. The
 * box's MAC authenticates the contents, and the header copy sealed inside authenticates the
 * header: after opening, it must equal the outer line byte for byte.
 */
import { createHash } from "node:crypto";
import { DataError, DeniedError } from "../../src/kernel/index.ts";
import { fromBase64, kdfProblem, KDF_LIMITS, NONCE_BYTES, newNonce, open, seal, type KdfLimits, type KdfParams } from "./crypto.ts";
import type { VaultEntry } from "./types.ts";

export interface VaultHeader {
  v: 1;
  kdf: KdfParams;
  /** Base64, 24 bytes, new for every write. */
  nonce: string;
}

/** A file that parsed and passed its checksum, not yet opened. */
export interface SealedVault {
  header: VaultHeader;
  headerLine: string;
  nonce: Uint8Array;
  box: Uint8Array;
}

export type Entries = Map<string, VaultEntry>;

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export const NAME_RULE = "letters, digits, _ . - (at most 128)";

function checksum(body: string): string {
  return createHash("sha256").update(body, "utf8").digest("hex");
}

function damaged(file: string, why: string): DataError {
  return new DataError("E_VAULT_DAMAGED", `${file} is damaged: ${why}; nothing was decrypted`, {
    hint: "Restore vault.enc from a backup; opsterm never writes it in place, so a damaged file was changed by something else",
  });
}

/** Parses and checks a vault file's text without any key. Throws DataError (65). */
export function parseVault(text: string, file: string, limits: KdfLimits = KDF_LIMITS): SealedVault {
  // eslint-disable-next-line no-control-regex
  if (/[^\x20-\x7e\n]/.test(text)) throw damaged(file, "it holds bytes a vault file never has");
  const lines = text.split("\n");
  if (lines.length !== 4 || lines[3] !== "") throw damaged(file, "it is not three lines");
  const [headerLine, boxLine, sumLine] = lines;
  if (sumLine !== `sha256:${checksum(`${headerLine}\n${boxLine}\n`)}`) throw damaged(file, "its checksum does not match");
  let header: VaultHeader;
  try {
    header = JSON.parse(headerLine) as VaultHeader;
  } catch {
    throw damaged(file, "its header is not JSON");
  }
  const shapeProblem = headerProblem(header);
  if (shapeProblem) throw damaged(file, shapeProblem);
  const weak = kdfProblem(header.kdf, limits);
  if (weak) {
    throw new DataError("E_VAULT_KDF", `${file} is refused: ${weak}; nothing was decrypted`, {
      hint: "opsterm writes logN 15..20 only; a file asking for another work factor was not written by it",
    });
  }
  const nonce = fromBase64(header.nonce);
  if (!nonce || nonce.length !== NONCE_BYTES) throw damaged(file, "its nonce is not 24 bytes");
  const box = fromBase64(boxLine);
  if (!box || box.length < 16) throw damaged(file, "its sealed part is not base64");
  return { header, headerLine, nonce, box };
}

function headerProblem(h: unknown): string | undefined {
  const header = h as Record<string, unknown>;
  if (typeof h !== "object" || h === null || Array.isArray(h)) return "its header is not an object";
  if (Object.keys(header).join(",") !== "v,kdf,nonce") return "its header does not have exactly v, kdf, nonce";
  if (header.v !== 1) return `it is format version ${JSON.stringify(header.v)}, this opsterm reads version 1`;
  const kdf = header.kdf as Record<string, unknown>;
  if (typeof kdf !== "object" || kdf === null || Object.keys(kdf).join(",") !== "alg,logN,r,p,salt") return "its kdf is not {alg, logN, r, p, salt}";
  return undefined;
}

/**
 * Opens a parsed vault with `key`. A key that does not open the box is a wrong passphrase (77,
 * nothing more said: which byte failed is nobody's business); a box that opens but whose sealed
 * header differs from the outer one, or whose contents are not entries, is damage (65).
 */
export function openVault(sealed: SealedVault, key: Uint8Array, file: string, source: string): Entries {
  const plain = open(sealed.box, sealed.nonce, key);
  if (!plain) {
    throw new DeniedError("E_VAULT_PASSPHRASE", `Wrong vault passphrase (from ${source})`);
  }
  let inner: { header?: unknown; entries?: unknown };
  try {
    inner = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain)) as typeof inner;
  } catch {
    throw damaged(file, "its sealed contents are not JSON");
  }
  if (JSON.stringify(inner?.header) !== sealed.headerLine) throw damaged(file, "its header differs from the one sealed inside");
  return entriesFrom(inner.entries, file);
}

function entriesFrom(raw: unknown, file: string): Entries {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw damaged(file, "its entries are not a mapping");
  const entries: Entries = new Map();
  for (const [name, value] of Object.entries(raw)) {
    const e = value as Partial<VaultEntry>;
    const ok = isValidName(name) && typeof e?.value === "string" && typeof e.created === "string" && typeof e.updated === "string" && (e.note === undefined || typeof e.note === "string");
    if (!ok) throw damaged(file, `its entry ${JSON.stringify(name.slice(0, 40))} is malformed`);
    entries.set(name, { value: e.value!, created: e.created!, updated: e.updated!, ...(e.note === undefined ? {} : { note: e.note }) });
  }
  return entries;
}

/** The text of a vault file holding `entries`, sealed under `key` with a fresh nonce. */
export function sealVault(entries: Entries, kdf: KdfParams, key: Uint8Array): string {
  const nonce = newNonce();
  const header: VaultHeader = { v: 1, kdf: { alg: "scrypt", logN: kdf.logN, r: kdf.r, p: kdf.p, salt: kdf.salt }, nonce: Buffer.from(nonce).toString("base64") };
  const headerLine = JSON.stringify(header);
  const inner = JSON.stringify({ header, entries: Object.fromEntries(entries) });
  const boxLine = Buffer.from(seal(new TextEncoder().encode(inner), nonce, key)).toString("base64");
  const body = `${headerLine}\n${boxLine}\n`;
  return `${body}sha256:${checksum(body)}\n`;
}
