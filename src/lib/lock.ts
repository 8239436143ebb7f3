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

type Inspected = { state: "absent" } | { state: "owner"; owner: LockOwner; id: string; heldSinceMs: number } | { state: "foreign"; what: string; id: string };

/** What is at the lock path: absent, one of our lock files, or something else (a legacy lock directory). */
function inspect(lock: string, known?: Inspected): Inspected {
  let st;
  try {
    st = lstatSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "absent" };
    return { state: "foreign", what: `unreadable (${(error as NodeJS.ErrnoException).code})`, id: "" };
  }
  // link() and rename() set the ctime: the same inode with the same ctime is the same holder.
  const id = `${st.ino}:${st.ctimeMs}`;
  if (known && known.state !== "absent" && known.id === id) return known;
  if (st.isDirectory()) return { state: "foreign", what: "a directory (a lock left by an older opsterm)", id };
  if (!st.isFile()) return { state: "foreign", what: "not a regular file", id };
  const text = readSmall(lock);
  if (text === undefined) return { state: "absent" };
  const owner = parseOwner(text);
  return owner ? { state: "owner", owner, id, heldSinceMs: st.ctimeMs } : { state: "foreign", what: "not an opsterm lock file", id };
}

/**
 * Replaces the dead `dead`'s lock with ours. Returns our lock file's inode when we hold the lock,
 * undefined when someone else is ahead (the caller keeps waiting).
 */
function takeOver(lock: string, dead: LockOwner, mine: OwnFile, claim = `${lock}.takeover.${dead.nonce}`, depth = 0): number | undefined {
  if (depth > 16) return undefined;
  try {
    linkSync(mine.path, claim);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Someone claimed this dead holder first: wait for them, unless they died too.
    const other = parseOwner(readSmall(claim));
    if (!other || !ownerIsDead(other)) return undefined;
    return takeOver(lock, dead, mine, `${claim}.${other.nonce}`, depth + 1);
  }
  try {
    // Only a claimant may replace the dead holder's file, and we are the only live one: if the
    // lock still names it, nobody can change it under us.
    const now = inspect(lock);
    if (now.state !== "owner" || now.owner.nonce !== dead.nonce) return undefined;
    const fresh = `${lock}.${mine.owner.nonce}.takeover-tmp`;
    unlinkQuietly(fresh);
    writeOwnerFile(fresh, mine.owner);
    const ino = lstatSync(fresh).ino;
    renameSync(fresh, lock);
    // The dead holder's own file, if it left one.
    unlinkQuietly(`${lock}.${dead.nonce}.tmp`);
    return ino;
  } finally {
    unlinkQuietly(claim);
  }
}

/**
 * The owner file of one withLock() call, `<lock>.<nonce>.tmp`: written whole, then hard-linked to
 * the lock path; removed as soon as the lock is taken (or given up), so nothing stays behind in the
 * directory (a workspace's pinned `.opsterm/` must not change). A process that dies keeps its
 * nonce forever, so takeover claims named after it stay unique.
 */
interface OwnFile {
  path: string;
  owner: LockOwner;
  ino: number;
}

function ownFile(lock: string): OwnFile {
  const owner: LockOwner = { ...selfIdentity(), nonce: randomBytes(8).toString("hex"), since: Date.now() };
  const path = `${lock}.${owner.nonce}.tmp`;
  writeOwnerFile(path, owner);
  return { path, owner, ino: lstatSync(path).ino };
}

/** Runs `fn` while holding `<path>.lock`. */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  ensureDir(dirname(path));
  const lock = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const noticeAfterMs = options.noticeAfterMs ?? 3000;
  const started = Date.now();
  const mine = ownFile(lock);
  let heldIno: number | undefined;
  let noticed = false;
  // The holder we are waiting for, and when we last checked that it is alive: polls between checks
  // cost one link() and one lstat() (20 waiters must not slow the holder down).
  let known: Inspected | undefined;
  let aliveCheckedAt = 0;
  let delay = 2;
  // Fairness (never safety): a waiter that has waited a while marks itself next in `<lock>.next`;
  // others do not try while a live process is marked, so one process re-taking the lock in a loop
  // cannot starve the rest.
  const next = `${lock}.next`;
  let amNext = false;
  let nextCheckedAt = 0;
  try {
    while (heldIno === undefined) {
      let mayTry = amNext;
      if (!amNext) {
        const marked = parseOwner(readSmall(next));
        mayTry = !marked;
        if (marked && Date.now() - nextCheckedAt > 500) {
          nextCheckedAt = Date.now();
          if (ownerIsDead(marked)) unlinkQuietly(next);
        }
      }
      if (mayTry) {
        try {
          linkSync(mine.path, lock);
          heldIno = mine.ino;
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
      }
      const now = inspect(lock, known);
      if (now.state === "absent" && mayTry) continue;
      if (now.state !== "absent" && (now !== known || Date.now() - aliveCheckedAt > 500)) {
        known = now;
        aliveCheckedAt = Date.now();
        if (now.state === "owner" && now.owner.nonce !== mine.owner.nonce && ownerIsDead(now.owner)) {
          heldIno = takeOver(lock, now.owner, mine);
          if (heldIno !== undefined) break;
        }
      }
      const waited = Date.now() - started;
      if (waited > timeoutMs) {
        const who = now.state === "owner" ? holderText(now) : now.state === "foreign" ? `${lock} is ${now.what}` : "other processes are ahead";
        throw new TemporaryError("E_LOCK_TIMEOUT", `Gave up after ${Math.round(waited / 1000)} s waiting for ${lock}: ${who}`, {
          hint:
            now.state === "owner"
              ? now.owner.host === mine.owner.host
                ? `Wait for process ${now.owner.pid} to finish; the lock is taken over as soon as that process is gone`
                : `The holder runs on host ${now.owner.host}: it cannot be proven dead from here; remove ${lock} only if no opsterm runs there`
              : now.state === "foreign"
                ? `Remove ${lock} if no opsterm process is running`
                : "Retry when fewer opsterm processes write at once",
        });
      }
      // A queue of quick holders is not news; one slow holder is.
      if (now.state !== "absent") {
        const heldFor = now.state === "owner" ? Date.now() - now.heldSinceMs : waited;
        if (!noticed && heldFor >= noticeAfterMs && waited >= noticeAfterMs) {
          noticed = true;
          const message = `waiting for ${lock}: ${now.state === "owner" ? holderText(now) : `${lock} is ${now.what}`}`;
          if (options.onWait) options.onWait(message);
          else process.stderr.write(`opsterm: ${message}\n`);
        }
      }
      if (!amNext && waited > 100) {
        try {
          linkSync(mine.path, next);
          amNext = true;
        } catch {
          // Someone else is next.
        }
      }
      // The marked waiter polls fast; the others back off with jitter (20+ processes never march in step).
      const wait = amNext ? 1 + Math.random() * 2 : delay + Math.random() * delay;
      await new Promise((r) => setTimeout(r, wait));
      if (!amNext) delay = Math.min(delay * 2, 50);
    }
  } finally {
    if (amNext) {
      try {
        if (lstatSync(next).ino === mine.ino) unlinkSync(next);
      } catch {
        // Already gone.
      }
    }
    // Held or not, the lock path (a hard link) is all that remains of it.
    unlinkQuietly(mine.path);
  }
  try {
    return await fn();
  } finally {
    // Nobody takes a lock from a live holder: it is still ours (checked anyway, by inode).
    try {
      if (lstatSync(lock).ino === heldIno) unlinkSync(lock);
    } catch {
      // Already gone.
    }
  }
}

function holderText(held: { owner: LockOwner; heldSinceMs: number }): string {
  const o = held.owner;
  const age = Math.max(0, Math.round((Date.now() - held.heldSinceMs) / 1000));
  const why = o.host !== hostname() ? "on another host: it cannot be proven dead" : "alive: it is waited for, never taken over";
  return `held by opsterm process ${o.pid}${o.host !== hostname() ? ` on ${o.host}` : ""} for ${age} s (${why})`;
}
