/**
 * The vault's cryptography: scrypt (node:crypto, part of the runtime, no addon) turns the
 * passphrase into a 32-byte key; tweetnacl's secretbox (XSalsa20-Poly1305) seals the contents.
 */
import { randomBytes, scrypt } from "node:crypto";
import nacl from "tweetnacl";

export interface KdfParams {
  alg: "scrypt";
  /** N = 2^logN. */
  logN: number;
  r: number;
  p: number;
  /** Base64, 32 random bytes. */
  salt: string;
}

/** The work factor of a new vault: about 0.3 s of one core and 128 MiB. */
export const DEFAULT_LOG_N = 17;

/**
 * What a vault file may ask of us. A work factor below the floor is a downgrade (an attacker who
 * can write the file wants cheap guesses); above the ceiling it is a denial of service.
 */
export interface KdfLimits {
  minLogN: number;
  maxLogN: number;
}

/** The only limits production code uses. Tests of the file format pass lower ones explicitly. */
export const KDF_LIMITS: Readonly<KdfLimits> = Object.freeze({ minLogN: 15, maxLogN: 20 });

const MAX_R = 16;
const MAX_P = 4;
/** scrypt needs 128·N·r bytes: 1 GiB is logN 20 at r 8. */
const MAX_MEMORY = 1024 * 1024 * 1024;

/** Why these parameters are refused, or undefined when they are acceptable. */
export function kdfProblem(kdf: KdfParams, limits: KdfLimits = KDF_LIMITS): string | undefined {
  if (kdf.alg !== "scrypt") return `unknown key derivation "${String(kdf.alg)}"`;
  if (!Number.isInteger(kdf.logN) || kdf.logN < limits.minLogN || kdf.logN > limits.maxLogN) {
    return `scrypt work factor logN ${String(kdf.logN)} is outside ${limits.minLogN}..${limits.maxLogN}`;
  }
  if (!Number.isInteger(kdf.r) || kdf.r < 1 || kdf.r > MAX_R) return `scrypt r ${String(kdf.r)} is outside 1..${MAX_R}`;
  if (!Number.isInteger(kdf.p) || kdf.p < 1 || kdf.p > MAX_P) return `scrypt p ${String(kdf.p)} is outside 1..${MAX_P}`;
  if (128 * 2 ** kdf.logN * kdf.r > MAX_MEMORY) return `scrypt logN ${kdf.logN} with r ${kdf.r} needs more than 1 GiB`;
  const salt = fromBase64(kdf.salt);
  if (!salt || salt.length < 16 || salt.length > 64) return "the salt is not 16 to 64 bytes of base64";
  return undefined;
}

export function newKdf(logN = DEFAULT_LOG_N): KdfParams {
  return { alg: "scrypt", logN, r: 8, p: 1, salt: randomBytes(32).toString("base64") };
}

let derivations = 0;

/** How many scrypt derivations this process ran (tests prove "one per process"). */
export function derivationCount(): number {
  return derivations;
}

/**
 * The 32-byte key for `passphrase`. Async: scrypt runs on the thread pool, so a spinner or a
 * signal handler still runs. The passphrase is NFC-normalised, so the same characters typed on
 * another system give the same key.
 */
export async function deriveKey(passphrase: string, kdf: KdfParams): Promise<Uint8Array> {
  const N = 2 ** kdf.logN;
  // OpenSSL needs 128·r·(N+2) bytes for V plus 128·r·p for B; the default maxmem (32 MiB) is too small.
  const maxmem = 128 * kdf.r * (N + 2 + kdf.p) + 1024 * 1024;
  derivations++;
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(Buffer.from(passphrase.normalize("NFC"), "utf8"), Buffer.from(kdf.salt, "base64"), nacl.secretbox.keyLength, { N, r: kdf.r, p: kdf.p, maxmem }, (error, derived) =>
      error ? reject(error) : resolve(derived),
    );
  });
  return new Uint8Array(key.buffer, key.byteOffset, key.length);
}

export const NONCE_BYTES = nacl.secretbox.nonceLength;

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

export function seal(plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  return nacl.secretbox(plaintext, nonce, key);
}

/** The plaintext, or null when the key is wrong or a byte of the box changed (the MAC says which, not us). */
export function open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  return nacl.secretbox.open(box, nonce, key);
}

/** Strict base64: Node's decoder skips characters it does not know, which would hide damage. */
export function fromBase64(text: unknown): Buffer | undefined {
  if (typeof text !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  // Non-canonical padding bits decode to the same bytes: only the canonical spelling is accepted.
  return bytes.toString("base64") === text ? bytes : undefined;
}
