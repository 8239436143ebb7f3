/**
 * The audit witness: a copy of every new head (seq, hash, time) outside opsterm's own files, so a
 * deleted, truncated or re-hashed log is found by `audit verify` even when head.json was rewritten
 * with it. `audit.witness` (global config only):
 *
 * - `syslog`: the system log. Sent with `logger` (util-linux; Node has no unix datagram sockets) to
 *   the socket `audit.syslog.socket` (default /dev/log), tag `opsterm-audit`, facility auth.notice.
 *   Read back from the journal (`journalctl`, only this user's messages: `_UID=`) or from the files
 *   rsyslog writes (/var/log/auth.log, secure, messages, syslog and their rotations), or from the
 *   file `audit.syslog.read` names.
 * - `{ command: [argv…], verifyCommand?: [argv…] }`: `command` gets one head as a JSON line on its
 *   stdin per append; `verifyCommand` prints the heads it holds, one per line (JSON lines, or lines
 *   that contain the syslog form `opsterm-audit-head v1 {…}`).
 * - `none`.
 *
 * The message holds the log's path, seq, hash and time: nothing secret, so it may go on argv.
 */
import { spawn } from "node:child_process";
import { closeSync, constants, createReadStream, existsSync, fstatSync, openSync, realpathSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { AuditFiles } from "./log.ts";
import { readBoundedText } from "../../src/lib/bounded-read.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";

export const DEFAULT_SYSLOG_SOCKET = "/dev/log";
export const SYSLOG_TAG = "opsterm-audit";
const MARK = /opsterm-audit-(head|restart) v1 (\{.*\})\s*$/;
/** System log files rsyslog writes auth.notice to, by distribution (Debian: auth.log; RHEL: messages). */
export const SYSLOG_FILES = ["/var/log/auth.log", "/var/log/secure", "/var/log/messages", "/var/log/syslog"];
const SEND_TIMEOUT_MS = 10_000;
const READ_TIMEOUT_MS = 60_000;
/** Cap on what a verifyCommand or journalctl may print. */
const MAX_READ_BYTES = 256 * 1024 * 1024;

export type WitnessConfig =
  | { kind: "none"; why: string }
  | { kind: "syslog"; socket: string; read?: string; explicit: boolean }
  | { kind: "command"; command: string[]; verifyCommand?: string[]; timeoutMs: number };

/** What is witnessed: a head of the chain, or a deliberate restart of it (`opsterm audit restart`). */
export interface WitnessEntry {
  type: "head" | "restart";
  log: string;
  seq: number;
  hash: string;
  ts: string;
  /** Where it was read (file:line, journal, verifyCommand line n). */
  at?: string;
}

/** The `audit` config section (all of it global-only; see index.ts). */
export function witnessConfig(get: (key: string) => unknown): WitnessConfig {
  const value = get("audit.witness");
  const socket = typeof get("audit.syslog.socket") === "string" ? (get("audit.syslog.socket") as string) : DEFAULT_SYSLOG_SOCKET;
  const read = typeof get("audit.syslog.read") === "string" ? (get("audit.syslog.read") as string) : undefined;
  if (value === "none") return { kind: "none", why: "audit.witness is none" };
  if (value === "syslog") return { kind: "syslog", socket, read, explicit: true };
  if (value && typeof value === "object") {
    const v = value as { command: string[]; verifyCommand?: string[]; timeoutMs?: number };
    return { kind: "command", command: v.command.map(String), verifyCommand: v.verifyCommand?.map(String), timeoutMs: v.timeoutMs ?? SEND_TIMEOUT_MS };
  }
  // Default: the system log, when there is one.
  return existsSync(socket) ? { kind: "syslog", socket, read, explicit: false } : { kind: "none", why: `no ${socket}; set audit.witness to witness the audit log` };
}

export function describeWitness(w: WitnessConfig): string {
  if (w.kind === "none") return `none (${w.why})`;
  if (w.kind === "syslog") return `syslog via ${w.socket}${w.explicit ? "" : " (default)"}`;
  return `command ${w.command[0]}${w.verifyCommand ? `, read back with ${w.verifyCommand[0]}` : " (no verifyCommand: not read back)"}`;
}

/** The log's identity in the witness: the real path of audit.jsonl. */
export function logId(files: AuditFiles): string {
  try {
    return join(realpathSync(files.dir), basename(files.log));
  } catch {
    return files.log;
  }
}

export function entryJson(e: WitnessEntry): string {
  return JSON.stringify({ v: 1, type: e.type, log: e.log, seq: e.seq, hash: e.hash, ts: e.ts });
}

/** Runs argv (no shell) with `input` on stdin; resolves with stdout, rejects with a one-line reason. */
function run(argv: string[], input: string, options: { env: Record<string, string | undefined>; timeoutMs: number; maxBytes?: number; what: string }): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env as NodeJS.ProcessEnv, timeout: options.timeoutMs });
    } catch (error) {
      return reject(new Error(`${options.what} could not start (${(error as Error).message})`));
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let tooMuch = false;
    child.stdout.on("data", (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > (options.maxBytes ?? 1 << 20)) {
        tooMuch = true;
        child.kill("SIGKILL");
      } else out.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      if (err.length < 2000) err += c.toString("utf8");
    });
    child.stdin.on("error", () => {});
    child.on("error", (error: NodeJS.ErrnoException) => reject(new Error(`${options.what} ${error.code === "ENOENT" ? "was not found" : `could not start (${error.code ?? error.message})`}`)));
    child.on("close", (code, signal) => {
      const detail = err.trim().split("\n").pop()?.slice(0, 300);
      if (tooMuch) return reject(new Error(`${options.what} printed more than ${Math.round((options.maxBytes ?? 0) / (1 << 20))} MiB`));
      if (signal) return reject(new Error(`${options.what} was killed by ${signal}${signal === "SIGTERM" ? " (timed out)" : ""}`));
      if (code !== 0) return reject(new Error(`${options.what} exited with ${code}${detail ? `: ${detail}` : ""}`));
      resolve(Buffer.concat(out).toString("utf8"));
    });
    child.stdin.end(input);
  });
}

/** Sends one entry to the witness. Rejects with a one-line reason; never touches the audit log. */
export async function sendToWitness(w: WitnessConfig, entry: WitnessEntry, env: Record<string, string | undefined>): Promise<void> {
  if (w.kind === "none") return;
  if (w.kind === "command") {
    await run(w.command, entryJson(entry) + "\n", { env, timeoutMs: w.timeoutMs, what: `the witness command (${w.command[0]})` });
    return;
  }
  const message = syslogMessage(entry);
  // logger reports a missing or refusing socket only with --socket-errors=on.
  const argv = ["logger", "--socket-errors=on", "-u", w.socket, "-t", SYSLOG_TAG, "-p", "auth.notice", `--id=${process.pid}`, "--size", "8192", "--", message];
  await run(argv, "", { env: { PATH: env.PATH ?? "/usr/bin:/bin", LANG: "C" }, timeoutMs: SEND_TIMEOUT_MS, what: `logger (to ${w.socket})` });
}

/** Parses one line of a witness source; undefined when it holds no entry. */
export function parseWitnessLine(line: string, at: string): WitnessEntry | undefined {
  let type: string | undefined;
  let json: string | undefined;
  const m = MARK.exec(line);
  if (m) {
    type = m[1];
    json = m[2];
  } else if (line.trimStart().startsWith("{")) {
    json = line.trim();
  }
  if (!json) return undefined;
  try {
    const o = JSON.parse(json) as Partial<WitnessEntry>;
    type ??= o.type;
    if ((type !== "head" && type !== "restart") || typeof o.log !== "string" || !Number.isSafeInteger(o.seq) || typeof o.hash !== "string" || typeof o.ts !== "string") return undefined;
    return { type, log: o.log, seq: o.seq as number, hash: o.hash, ts: o.ts, at };
  } catch {
    return undefined;
  }
}

export class WitnessUnreadable extends Error {}

/** Reads every entry the witness holds (for all logs). Throws WitnessUnreadable saying which source failed. */
export async function readWitness(w: WitnessConfig, env: Record<string, string | undefined>): Promise<{ source: string; entries: WitnessEntry[] }> {
  if (w.kind === "none") return { source: "none", entries: [] };
  if (w.kind === "command") {
    if (!w.verifyCommand) return { source: "command (no verifyCommand)", entries: [] };
    const source = `verifyCommand ${w.verifyCommand.join(" ")}`;
    let text: string;
    try {
      text = await run(w.verifyCommand, "", { env, timeoutMs: READ_TIMEOUT_MS, maxBytes: MAX_READ_BYTES, what: `the witness's verifyCommand (${w.verifyCommand[0]})` });
    } catch (error) {
      throw new WitnessUnreadable((error as Error).message);
    }
    const entries = text.split("\n").flatMap((l, i) => parseWitnessLine(l, `verifyCommand line ${i + 1}`) ?? []);
    return { source, entries };
  }
  if (w.read === "journal" || (w.read === undefined && existsSync("/run/systemd/journal/socket"))) {
    const uid = process.getuid?.();
    const argv = ["journalctl", "-q", "--no-pager", "-o", "cat", `SYSLOG_IDENTIFIER=${SYSLOG_TAG}`, ...(uid === undefined ? [] : [`_UID=${uid}`])];
    let text: string;
    try {
      text = await run(argv, "", { env: { PATH: env.PATH ?? "/usr/bin:/bin", LANG: "C" }, timeoutMs: READ_TIMEOUT_MS, maxBytes: MAX_READ_BYTES, what: "journalctl" });
    } catch (error) {
      throw new WitnessUnreadable(`the journal cannot be read: ${(error as Error).message}`);
    }
    return { source: "syslog (journal)", entries: text.split("\n").flatMap((l, i) => parseWitnessLine(l, `journal line ${i + 1}`) ?? []) };
  }
  const bases = w.read ? [w.read] : SYSLOG_FILES.filter((f) => existsSync(f));
  if (bases.length === 0) throw new WitnessUnreadable(`no system log file found (looked for ${SYSLOG_FILES.join(", ")}); set audit.syslog.read to the file rsyslog writes auth.notice to, or "journal"`);
  const entries: WitnessEntry[] = [];
  for (const base of bases) {
    // Oldest first: rotations (.N.gz … .1), then the live file.
    for (const file of [...rotations(base), base]) entries.push(...(await scanFile(file)));
  }
  return { source: `syslog (${bases.join(", ")})`, entries };
}

function rotations(base: string): string[] {
  const out: string[] = [];
  for (let n = 9; n >= 2; n--) if (existsSync(`${base}.${n}.gz`)) out.push(`${base}.${n}.gz`);
  if (existsSync(`${base}.1`)) out.push(`${base}.1`);
  return out;
}

async function scanFile(file: string): Promise<WitnessEntry[]> {
  let fd: number;
  try {
    // stat before open: opening a FIFO nobody writes to would block.
    if (!statSync(file).isFile()) throw new WitnessUnreadable(`the system log ${file} is not a regular file`);
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if (error instanceof WitnessUnreadable) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new WitnessUnreadable(`the system log ${file} does not exist`);
    throw new WitnessUnreadable(`the system log ${file} cannot be read (${code === "EACCES" ? "permission denied: run as a member of the group that may read it, e.g. adm, or use the journal" : code})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new WitnessUnreadable(`the system log ${file} is not a regular file`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const stream = createReadStream("", { fd, autoClose: true });
  const input = file.endsWith(".gz") ? stream.pipe(createGunzip()) : stream;
  const rl = createInterface({ input, crlfDelay: Infinity });
  const out: WitnessEntry[] = [];
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.length > 65_536 || !line.includes("opsterm-audit-")) continue;
      const e = parseWitnessLine(line, `${file}:${n}`);
      if (e) out.push(e);
    }
  } catch (error) {
    throw new WitnessUnreadable(`the system log ${file} cannot be read (${(error as Error).message})`);
  }
  return out;
}

export interface WitnessCheck {
  ok: boolean;
  /** Heads of this log the witness holds (after the last restart). */
  witnessed: number;
  lastWitnessed?: { seq: number; hash: string; ts: string; at?: string };
  firstBadSeq?: number;
  problem?: string;
  warnings: string[];
  restarts: { ts: string; previousSeq: number; at?: string }[];
}

/**
 * The chain (hash of record i at index i-1) against what the witness holds for this log. Every
 * witnessed head must be in the log with the same hash; the first that is not is the divergence.
 */
export function compareWithWitness(hashes: string[], all: WitnessEntry[], log: string): WitnessCheck {
  const mine = all.filter((e) => e.log === log);
  const lastRestart = mine.map((e) => e.type).lastIndexOf("restart");
  const restarts = mine.filter((e) => e.type === "restart").map((e) => ({ ts: e.ts, previousSeq: e.seq, at: e.at }));
  const heads = mine.slice(lastRestart + 1).filter((e) => e.type === "head");
  const warnings: string[] = [];
  if (lastRestart >= 0) {
    const r = mine[lastRestart];
    warnings.push(`the chain was restarted at ${r.ts} (witnessed${r.at ? ` at ${r.at}` : ""}; the previous chain ended at record ${r.seq}): heads before it are not compared`);
  }
  const bad = heads.filter((h) => h.seq < 1 || h.seq > hashes.length || hashes[h.seq - 1] !== h.hash).sort((a, b) => a.seq - b.seq);
  const good = heads.filter((h) => !bad.includes(h));
  const last = heads.reduce<WitnessEntry | undefined>((m, h) => (!m || h.seq > m.seq ? h : m), undefined);
  const base: WitnessCheck = { ok: true, witnessed: heads.length, lastWitnessed: last && { seq: last.seq, hash: last.hash, ts: last.ts, at: last.at }, warnings, restarts };
  if (bad.length > 0) {
    const b = bad[0];
    const agree = good.filter((h) => h.seq < b.seq).reduce((m, h) => Math.max(m, h.seq), 0);
    const where = b.at ? ` (${b.at})` : "";
    if (b.seq > hashes.length) {
      return {
        ...base,
        ok: false,
        firstBadSeq: hashes.length + 1,
        problem: `the witness recorded record ${b.seq} (hash ${b.hash.slice(0, 16)}…, ${b.ts})${where}, but the log ends at record ${hashes.length}: the log was deleted or truncated`,
      };
    }
    const range = agree + 1 < b.seq ? `; the change is in records ${agree + 1}..${b.seq}` : "";
    return {
      ...base,
      ok: false,
      firstBadSeq: b.seq,
      problem: `record ${b.seq} differs from the head the witness recorded at ${b.ts}${where} (witnessed ${b.hash.slice(0, 16)}…, the log has ${hashes[b.seq - 1].slice(0, 16)}…): the log was rewritten${agree ? `; records up to ${agree} agree with the witness` : ""}${range}`,
    };
  }
  if (hashes.length > 0 && heads.length === 0) {
    warnings.push("the witness holds no head of this log (the witness was set up after these records, or its log was rotated away)");
  } else if (last && last.seq < hashes.length) {
    warnings.push(`records ${last.seq + 1}..${hashes.length} are not witnessed (yet): the witness was unreachable when they were written, or the message is still on its way`);
  }
  return base;
}

/** Last send outcome, kept in audit/witness.json for doctor (written when it changes, not per append). */
export interface WitnessState {
  status: "ok" | "failing";
  since: string;
  seq: number;
  message?: string;
}

export function witnessStatePath(files: AuditFiles): string {
  return join(files.dir, "witness.json");
}

export function readWitnessState(files: AuditFiles): WitnessState | undefined {
  try {
    const text = readBoundedText(witnessStatePath(files), { maxBytes: 64 * 1024, what: "witness state" });
    return text ? (JSON.parse(text) as WitnessState) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeWitnessState(files: AuditFiles, state: WitnessState): Promise<void> {
  await atomicWrite(witnessStatePath(files), JSON.stringify(state) + "\n", { mode: 0o600 });
}

export function socketState(path: string): string | undefined {
  try {
    return statSync(path).isSocket() ? undefined : `${path} is not a socket`;
  } catch {
    return `${path} does not exist`;
  }
}

/** The syslog line for an entry (what `logger` gets as its message). */
export function syslogMessage(entry: WitnessEntry): string {
  return `opsterm-audit-${entry.type} v1 ${JSON.stringify({ log: entry.log, seq: entry.seq, hash: entry.hash, ts: entry.ts })}`;
}

/**
 * One `logger` per process, reading heads from its stdin (one line each): spawning it per append
 * costs tens of ms on a loaded machine. It is unref'd (never keeps opsterm alive; what was written
 * to its pipe is still sent after we exit). A missing socket or a logger that dies shows up as a
 * failure on the next send and on close().
 */
export interface SyslogSender {
  send(entry: WitnessEntry): void;
  close(): Promise<void>;
}

export function openSyslogSender(w: Extract<WitnessConfig, { kind: "syslog" }>, env: Record<string, string | undefined>): SyslogSender {
  const what = `logger (to ${w.socket})`;
  let failure: string | undefined;
  let stderr = "";
  const child = spawn("logger", ["--socket-errors=on", "-u", w.socket, "-t", SYSLOG_TAG, "-p", "auth.notice", `--id=${process.pid}`, "--size", "8192"], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { PATH: env.PATH ?? "/usr/bin:/bin", LANG: "C" } as NodeJS.ProcessEnv,
  });
  const closed = new Promise<void>((resolve) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      failure ??= `${what} ${error.code === "ENOENT" ? "was not found (install util-linux/bsdutils)" : `could not start (${error.code ?? error.message})`}`;
      resolve();
    });
    child.on("close", (code, signal) => {
      const detail = stderr.trim().split("\n").pop()?.slice(0, 300);
      if (code !== 0) failure ??= `${what} ${signal ? `was killed by ${signal}` : `exited with ${code}`}${detail ? `: ${detail}` : ""}`;
      resolve();
    });
  });
  child.stderr!.on("data", (c: Buffer) => {
    if (stderr.length < 2000) stderr += c.toString("utf8");
  });
  child.stdin!.on("error", () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return {
    send(entry) {
      if (failure) throw new Error(failure);
      child.stdin!.write(syslogMessage(entry) + "\n");
    },
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), SEND_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
      if (failure) throw new Error(failure);
      // logger reports a message it could not send on stderr and goes on.
      if (stderr.trim()) throw new Error(`${what}: ${stderr.trim().split("\n").pop()?.slice(0, 300)}`);
    },
  };
}
