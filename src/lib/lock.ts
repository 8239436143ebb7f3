/**
 * Cross-process mutual exclusion with a lock file next to the guarded file (Node has no flock).
 *
 * `<path>.lock` is a small JSON file naming its holder (pid, host, boot id, pid namespace, process
 * start time, a random nonce). It is created whole: written under a private temp name, then
 * `link()`ed into place, which fails if the lock exists. A lock is taken over only from a holder
 * that is **provably dead** — its PID is gone on this host, its start time differs (PID reused),
 * or it was made before the last boot — never because it is old: a live holder stalled in fsync
 * for a minute is waited for (with a message on stderr after a few seconds), never forked.
 *
 * Takeover without a race: replacing a dead holder's file needs a claim, `<lock>.takeover.<nonce
 * of the dead holder>`, made with `link()` (one winner). The winner re-reads the lock, and only if
 * it still names the dead holder renames its own file over it. A claimant that died is itself
 * taken over through `<claim>.<its nonce>`. docs/audit.md "Locking" has the argument in full.
 */
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, lstatSync, openSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { TemporaryError } from "../kernel/errors.ts";
import { ensureDir } from "./atomic-write.ts";

export interface LockOptions {
  /** Give up after this long (exit 75). Default 10 s. */
  timeoutMs?: number;
  /** Say once that we are waiting for a live holder after this long. Default 3 s. */
  noticeAfterMs?: number;
  /** Where the waiting message goes. Default: a line on stderr. */
  onWait?: (message: string) => void;
}

/** Who holds a lock: everything needed to prove it dead. */
export interface LockOwner {
  v: 1;
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id, when the system has one. */
  boot?: string;
  /** The pid namespace (/proc/self/ns/pid): PIDs of another namespace say nothing here. */
  ns?: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused PID apart. */
  start?: string;
  nonce: string;
  /** ms since the epoch, for messages only (never used to decide). */
  since: number;
}

const MAX_OWNER_BYTES = 4096;

function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

let cachedSelf: Omit<LockOwner, "nonce" | "since"> | undefined;

/** This process as a lock owner (nonce and time filled in per lock). */
export function selfIdentity(): Omit<LockOwner, "nonce" | "since"> {
  if (cachedSelf) return cachedSelf;
  let ns: string | undefined;
  try {
    ns = readlinkSync("/proc/self/ns/pid");
  } catch {
    ns = undefined;
  }
  cachedSelf = { v: 1, pid: process.pid, host: hostname(), boot: bootId(), ns, start: processStart(process.pid) };
  return cachedSelf;
}

export function bootId(): string | undefined {
  return readSmall("/proc/sys/kernel/random/boot_id")?.trim() || undefined;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), if readable. */
export function processStart(pid: number): string | undefined {
  const stat = readSmall(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself hold spaces and ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19];
}

/** Parses a lock file's content; undefined when it is not one of ours. */
export function parseOwner(text: string | undefined): LockOwner | undefined {
  if (text === undefined || text.length > MAX_OWNER_BYTES) return undefined;
  try {
    const o = JSON.parse(text) as LockOwner;
    if (o?.v !== 1 || !Number.isSafeInteger(o.pid) || o.pid <= 0 || typeof o.host !== "string" || typeof o.nonce !== "string" || !/^[0-9a-f]{16}$/.test(o.nonce)) return undefined;
    return o;
  } catch {
    return undefined;
  }
}

/**
 * Whether `owner` is provably gone. Undefined facts never prove anything: another host, another
 * pid namespace or an unreadable /proc mean "maybe alive".
 */
export function ownerIsDead(owner: LockOwner, self = selfIdentity()): boolean {
  if (owner.host !== self.host) return false;
  if (owner.boot && self.boot && owner.boot !== self.boot) return true;
  if (owner.ns !== self.ns) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
    // EPERM: a process with that PID exists (another user's); the start time below decides.
  }
  if (owner.start === undefined) return false;
  const now = processStart(owner.pid);
  if (now === undefined) {
    // Gone between kill(0) and the read: dead if /proc works at all.
    return processStart(process.pid) !== undefined;
  }
  return now !== owner.start;
}

function writeOwnerFile(path: string, owner: LockOwner): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** What is at the lock path: absent, one of our lock files, or something else (a legacy lock directory). */
function inspect(lock: string): { state: "absent" } | { state: "owner"; owner: LockOwner } | { state: "foreign"; what: string } {
  try {
    const st = lstatSync(lock);
    if (st.isDirectory()) return { state: "foreign", what: "a directory (a lock left by an older opsterm)" };
    if (!st.isFile()) return { state: "foreign", what: "not a regular file" };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "absent" };
    return { state: "foreign", what: `unreadable (${(error as NodeJS.ErrnoException).code})` };
  }
  const text = readSmall(lock);
  if (text === undefined) return { state: "absent" };
  const owner = parseOwner(text);
  return owner ? { state: "owner", owner } : { state: "foreign", what: "not an opsterm lock file" };
}

/**
 * Replaces the dead `dead`'s lock with ours (our file at `mine`). Returns true when we hold the
 * lock, false when someone else is ahead (the caller keeps waiting).
 */
function takeOver(lock: string, dead: LockOwner, mine: string, claim = `${lock}.takeover.${dead.nonce}`, depth = 0): boolean {
  if (depth > 16) return false;
  try {
    linkSync(mine, claim);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Someone claimed this dead holder first: wait for them, unless they died too.
    const other = parseOwner(readSmall(claim));
    if (!other || !ownerIsDead(other)) return false;
    return takeOver(lock, dead, mine, `${claim}.${other.nonce}`, depth + 1);
  }
  try {
    // Only a claimant may replace the dead holder's file, and we are the only live one: if the
    // lock still names it, nobody can change it under us.
    const now = inspect(lock);
    if (now.state !== "owner" || now.owner.nonce !== dead.nonce) return false;
    renameSync(mine, lock);
    unlinkQuietly(`${lock}.${dead.nonce}.tmp`);
    return true;
  } finally {
    unlinkQuietly(claim);
  }
}

/** Runs `fn` while holding `<path>.lock`. */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  ensureDir(dirname(path));
  const lock = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const noticeAfterMs = options.noticeAfterMs ?? 3000;
  const started = Date.now();
  const owner: LockOwner = { ...selfIdentity(), nonce: randomBytes(8).toString("hex"), since: started };
  const mine = `${lock}.${owner.nonce}.tmp`;
  writeOwnerFile(mine, owner);
  let held = false;
  let noticed = false;
  // The holder we are waiting for and since when: a queue of quick holders is not news; one slow one is.
  let seen: { key: string; at: number } | undefined;
  let delay = 2;
  try {
    while (!held) {
      try {
        linkSync(mine, lock);
        held = true;
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const now = inspect(lock);
      if (now.state === "absent") continue;
      if (now.state === "owner" && ownerIsDead(now.owner) && takeOver(lock, now.owner, mine)) {
        held = true;
        break;
      }
      const waited = Date.now() - started;
      const who = now.state === "owner" ? holderText(now.owner) : `${lock} is ${now.what}`;
      if (waited > timeoutMs) {
        throw new TemporaryError("E_LOCK_TIMEOUT", `Gave up after ${Math.round(waited / 1000)} s waiting for ${lock}: ${who}`, {
          hint:
            now.state === "owner"
              ? now.owner.host === owner.host
                ? `Wait for process ${now.owner.pid} to finish; the lock is taken over as soon as that process is gone`
                : `The holder runs on host ${now.owner.host}: it cannot be proven dead from here; remove ${lock} only if no opsterm runs there`
              : `Remove ${lock} if no opsterm process is running`,
        });
      }
      const key = now.state === "owner" ? now.owner.nonce : now.what;
      if (seen?.key !== key) seen = { key, at: Date.now() };
      if (!noticed && Date.now() - seen.at >= noticeAfterMs) {
        noticed = true;
        const message = `waiting for ${lock}: ${who}`;
        if (options.onWait) options.onWait(message);
        else process.stderr.write(`opsterm: ${message}\n`);
      }
      // Jittered backoff keeps 20+ contending processes from marching in step.
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    unlinkQuietly(mine);
  }
  try {
    return await fn();
  } finally {
    const now = inspect(lock);
    if (now.state === "owner" && now.owner.nonce === owner.nonce) unlinkQuietly(lock);
  }
}

function holderText(o: LockOwner): string {
  const age = Math.max(0, Math.round((Date.now() - o.since) / 1000));
  const why = o.host !== hostname() ? "on another host: it cannot be proven dead" : "alive: it is waited for, never taken over";
  return `held by opsterm process ${o.pid}${o.host !== hostname() ? ` on ${o.host}` : ""} for ${age} s (${why})`;
}
