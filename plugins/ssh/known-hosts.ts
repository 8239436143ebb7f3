/**
 * OpenSSH known_hosts: parse, match and append. Supports hashed `|1|salt|hash` entries,
 * `[host]:port`, wildcards `*` / `?`, negation `!`, `@revoked` (refused) and `@cert-authority`
 * (never a plain match: opsterm does not accept host certificates).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { appendFileSync, chmodSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { IoError } from "../../src/kernel/index.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { ensureDir } from "../../src/lib/atomic-write.ts";
import { withLock } from "../../src/lib/lock.ts";

export interface KnownHostEntry {
  marker?: "revoked" | "cert-authority";
  /** Comma-separated patterns, or one hashed `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** Base64 of the public key blob. */
  key: string;
  /** `path:line`, for messages. */
  at: string;
}

export type HostKeyStatus =
  | { status: "known"; at: string }
  | { status: "revoked"; at: string }
  | { status: "changed"; expected: { keyType: string; fingerprint: string; at: string }[] }
  | { status: "unknown" };

/** The name OpenSSH looks up: `host` on port 22, else `[host]:port`. */
export function hostKeyName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `SHA256:…` fingerprint of a public key blob, base64 without padding, as OpenSSH prints it. */
export function fingerprint(blob: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** Key type encoded at the start of an SSH public key blob (`ssh-ed25519`, …). */
export function keyTypeOf(blob: Uint8Array): string {
  const buf = Buffer.from(blob);
  if (buf.length < 4) return "unknown";
  const len = buf.readUInt32BE(0);
  return len > 0 && len < 64 && buf.length >= 4 + len ? buf.subarray(4, 4 + len).toString("latin1") : "unknown";
}

export function parseKnownHosts(text: string, path = "known_hosts"): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0].startsWith("@")) {
      const m = fields.shift()!;
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else continue; // Unknown marker: OpenSSH ignores the line.
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) continue;
    entries.push({ marker, hosts, keyType, key, at: `${path}:${i + 1}` });
  }
  return entries;
}

/** OpenSSH match_pattern: `*` and `?`, case-insensitive, whole string. */
export function matchPattern(name: string, pattern: string): boolean {
  const n = name.toLowerCase();
  const p = pattern.toLowerCase();
  // Iterative glob match with backtracking on the last `*`.
  let ni = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (ni < n.length) {
    if (pi < p.length && (p[pi] === "?" || p[pi] === n[ni])) {
      ni++;
      pi++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = ni;
    } else if (star !== -1) {
      pi = star + 1;
      ni = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

/** True when the entry's host field names `name`; a matching negated pattern vetoes the line. */
export function matchHosts(hosts: string, name: string): boolean {
  if (hosts.startsWith("|1|")) return matchHashed(hosts, name);
  let found = false;
  for (const raw of hosts.split(",")) {
    if (!raw) continue;
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    if (matchPattern(name, pattern)) {
      if (negated) return false;
      found = true;
    }
  }
  return found;
}

function matchHashed(field: string, name: string): boolean {
  const [, , salt64, hash64] = field.split("|");
  if (!salt64 || !hash64) return false;
  const salt = Buffer.from(salt64, "base64");
  const want = Buffer.from(hash64, "base64");
  const got = createHmac("sha1", salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** A hashed host field for `name`, as `ssh-keygen -H` writes it (for tests and HashKnownHosts). */
export function hashHostName(name: string, salt: Buffer): string {
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

/** Decides what a presented host key means for `host:port`. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, blob: Uint8Array): HostKeyStatus {
  const name = hostKeyName(host, port);
  const key64 = Buffer.from(blob).toString("base64");
  // A revoked key is refused for every host, whatever its pattern says.
  const revoked = entries.find((e) => e.marker === "revoked" && sameKey(e.key, key64));
  if (revoked) return { status: "revoked", at: revoked.at };
  const mine = entries.filter((e) => e.marker === undefined && matchHosts(e.hosts, name));
  const hit = mine.find((e) => sameKey(e.key, key64));
  if (hit) return { status: "known", at: hit.at };
  if (mine.length > 0) {
    return { status: "changed", expected: mine.map((e) => ({ keyType: e.keyType, fingerprint: fingerprint(Buffer.from(e.key, "base64")), at: e.at })) };
  }
  return { status: "unknown" };
}

/** Key types known for `host:port`, so the handshake can ask for those first (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = hostKeyName(host, port);
  return [...new Set(entries.filter((e) => e.marker === undefined && matchHosts(e.hosts, name)).map((e) => e.keyType))];
}

function sameKey(a64: string, b64: string): boolean {
  const a = Buffer.from(a64, "base64");
  const b = Buffer.from(b64, "base64");
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface KnownHostsFile {
  /** The file new keys are written to. */
  path: string;
  entries: KnownHostEntry[];
  check(host: string, port: number, blob: Uint8Array): HostKeyStatus;
  knownTypes(host: string, port: number): string[];
  /** Appends `host:port key` (hashed with `hash`; under a lock, 0600) and remembers it. */
  add(host: string, port: number, blob: Uint8Array): Promise<void>;
}

/**
 * Reads the user file (`path`, written to) and read-only extra files (e.g. /etc/ssh/ssh_known_hosts).
 * A missing file is empty; a file that exists but cannot be read throws: we refuse rather than guess.
 */
export function loadKnownHosts(path: string, extra: string[] = [], options: { hash?: boolean } = {}): KnownHostsFile {
  const entries = [...readEntries(path), ...extra.flatMap((p) => readEntries(p))];
  return {
    path,
    entries,
    check: (host, port, blob) => checkHostKey(entries, host, port, blob),
    knownTypes: (host, port) => knownKeyTypes(entries, host, port),
    async add(host, port, blob) {
      // HashKnownHosts: the file then does not tell a reader which hosts you connect to.
      const name = options.hash ? hashHostName(hostKeyName(host, port), randomBytes(20)) : hostKeyName(host, port);
      const line = `${name} ${keyTypeOf(blob)} ${Buffer.from(blob).toString("base64")}`;
      ensureDir(dirname(path));
      await withLock(path, () => {
        let prefix = "";
        try {
          const current = readFileSync(path, "utf8");
          if (current.length > 0 && !current.endsWith("\n")) prefix = "\n";
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw unreadable(path, error);
        }
        appendFileSync(path, `${prefix}${line}\n`, { mode: 0o600 });
        // appendFileSync applies the mode only on create; a fresh file must not be widened by umask.
        if (statSync(path).mode & 0o077 && prefix === "" && entries.length === 0) chmodSync(path, 0o600);
      });
      entries.push(...parseKnownHosts(line, path));
    },
  };
}

function readEntries(path: string): KnownHostEntry[] {
  let text: string | undefined;
  try {
    text = readBoundedText(path, { maxBytes: READ_LIMITS.ssh, what: "known_hosts files" });
  } catch (error) {
    // Not a regular file, too big, or unreadable: never connect without the check.
    throw unreadable(path, error);
  }
  return text === undefined ? [] : parseKnownHosts(text, path);
}

function unreadable(path: string, error: unknown): IoError {
  return new IoError("E_KNOWN_HOSTS_UNREADABLE", `Cannot read known_hosts file ${path}: ${(error as Error).message}; refusing to connect without host-key verification`, {
    hint: `Fix the file's permissions or point "ssh.knownHosts" at a readable file`,
  });
}
