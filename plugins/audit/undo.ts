/**
 * Undo of remote file writes (`opsterm undo`, the "audit.undo" service). The audit log says which
 * files a write changed and names their before/after snapshot commits with the file's state (mode,
 * owner, sha256); the snapshot store holds the content. An undo:
 *
 *   select the writes (a record, a run or conversation, the last one) → per file: the state before
 *   the first write and the content after the last → read the file now (through the gate) → every
 *   file must still hold what opsterm wrote, else exit 75 with a three-way diff and nothing is
 *   written → one write per file through the gate (policy, approval, audit, snapshots), newest first.
 *
 * The undo's writes are ordinary snapshotted writes, so an undo can itself be undone. What an
 * `exec` changed has no snapshot and is never undone.
 */
import { createHash } from "node:crypto";
import { DataError, EXIT, exitCodeFor, UsageError, type ActionRequest, type ActionResult, type PluginContext } from "../../src/kernel/index.ts";
import type { UndoFile, UndoOptions, UndoReport, UndoTarget } from "../../src/contracts/undo.ts";
import { auditFiles, readRecords, type AuditFiles } from "./log.ts";
import { currentRedactor } from "./service.ts";
import { snapshotContent } from "./snapshot.ts";
import type { AuditRecord } from "./types.ts";

type Ctx = Pick<PluginContext, "paths" | "env" | "hooks">;

/** A file state as the audit record keeps it (see the gate's snapshot entries). */
interface StateArgs {
  exists?: boolean;
  mode?: string;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  stored?: boolean;
}

/** One file of one write record. */
interface WriteEntry {
  /** The write's intent record: the seq `put`/`scp` report as auditSeq, and the one people quote. */
  seq: number;
  server: string;
  via?: string[];
  remote: string;
  /** The file's path inside the snapshot repo. */
  repoPath: string;
  before: string;
  after: string;
  beforeState?: StateArgs;
  afterState?: StateArgs;
}

/** A file's state loaded from the snapshot store. */
interface Loaded {
  /** null: the file did not exist. */
  content: Buffer | null;
  /** The content is all there (not a stub for a large or secret file). */
  stored: boolean;
  /** sha256 of the file in that state (null: absent; undefined: unknown, a secret). */
  sha256: string | null | undefined;
  state?: StateArgs;
}

interface Plan {
  server: string;
  via?: string[];
  path: string;
  writes: number[];
  before: Loaded;
  after: Loaded;
}

const COMMAND_ACTIONS = new Set(["exec", "local", "session-start", "session-end"]);
const STUB = /^\[opsterm\] content not stored in the snapshot: (\d+) bytes, sha256 ([0-9a-f]{64})\n$/;
const SECRET_STUB = /^\[opsterm\] secret content \(put --from-vault\) not stored in the snapshot: \d+ bytes\n$/;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The intent record of a write's result (seq = line number: scan back from it). */
function intentOf(records: AuditRecord[], result: AuditRecord): number {
  for (let i = Math.min(result.seq, records.length) - 2; i >= 0; i--) {
    const r = records[i];
    if (r.action === "write" && r.phase === "intent" && r.runId === result.runId && r.server === result.server) return r.seq;
  }
  return result.seq;
}

/** The files a write result record changed (entries with both snapshots: the write happened). */
function entriesOf(rec: AuditRecord, intent = rec.seq): WriteEntry[] {
  const args = rec.args ?? {};
  const via = Array.isArray(args.via) ? (args.via as string[]) : undefined;
  const out: WriteEntry[] = [];
  const list = Array.isArray(args.snapshots) ? (args.snapshots as Record<string, unknown>[]) : [];
  for (const s of list) {
    if (!s || typeof s !== "object" || typeof s.path !== "string" || typeof s.before !== "string" || typeof s.after !== "string") continue;
    const remote = typeof s.remote === "string" ? s.remote : String(args.path);
    out.push({ seq: intent, server: rec.server, via, remote, repoPath: s.path, before: s.before, after: s.after, beforeState: s.beforeState as StateArgs | undefined, afterState: s.afterState as StateArgs | undefined });
  }
  if (out.length === 0 && rec.snapshot?.before && rec.snapshot.after && typeof args.path === "string") {
    out.push({ seq: intent, server: rec.server, via, remote: args.path, repoPath: rec.snapshot.path, before: rec.snapshot.before, after: rec.snapshot.after });
  }
  return out;
}

const isWriteResult = (r: AuditRecord) => r.action === "write" && r.phase === "result";

function describe(r: AuditRecord): string {
  const a = r.args ?? {};
  const what = typeof a.command === "string" ? a.command : typeof a.path === "string" ? a.path : "";
  const one = what.replace(/\s+/g, " ");
  return one.length > 60 ? `${one.slice(0, 59)}…` : one;
}

/** The write result records `target` names, oldest first, and notes on what is left alone. */
export function selectWrites(records: AuditRecord[], target: UndoTarget): { writes: AuditRecord[]; run?: string; notes: string[] } {
  const notes: string[] = [];
  if ("seq" in target) {
    const rec = records.find((r) => r.seq === target.seq);
    if (!rec) throw new UsageError(`No audit record with seq ${target.seq} (the log has ${records.length})`, { code: "E_AUDIT_SEQ", hint: 'List records with "opsterm audit log"' });
    if (COMMAND_ACTIONS.has(rec.action)) {
      throw new DataError(
        "E_UNDO_EXEC",
        `Record ${rec.seq} is ${rec.action === "local" ? "a local command" : rec.action.startsWith("session") ? "an interactive ssh session" : "an exec command"} (${describe(rec)}): opsterm cannot undo what a command changed, only file writes it made (put, scp, remote_write_file, remote_patch_file)`,
      );
    }
    if (rec.action !== "write") {
      const why = rec.action === "approval" ? "a refusal or approval event: nothing ran" : `a ${rec.action}, which changes nothing`;
      throw new DataError("E_UNDO_NOT_WRITE", `Record ${rec.seq} is ${why}; there is nothing to undo`, { hint: 'Give the seq of a write ("opsterm audit log" shows write/intent and write/result rows)' });
    }
    let result: AuditRecord | undefined = rec;
    if (rec.phase === "intent") result = records.find((r) => r.seq > rec.seq && isWriteResult(r) && r.runId === rec.runId && r.server === rec.server);
    if (!result || result.phase !== "result") {
      throw new DataError("E_UNDO_NOTHING", `Write #${rec.seq} has no result record (it was interrupted before it finished, or is still running); there is nothing recorded to undo`);
    }
    if (entriesOf(result).length === 0) throw new DataError("E_UNDO_NOTHING", `Write #${result.seq} changed no file (it failed before writing); there is nothing to undo`);
    return { writes: [result], notes };
  }
  const runOf = (wanted: string) => {
    const exact = records.filter((r) => r.runId === wanted || r.args?.conversation === wanted);
    if (exact.length || wanted.length < 6) return { run: wanted, records: exact };
    const ids = [...new Set(records.filter((r) => r.runId.startsWith(wanted)).map((r) => r.runId))];
    if (ids.length > 1) throw new UsageError(`Run id prefix "${wanted}" matches ${ids.length} runs`, { code: "E_UNDO_NOT_FOUND", hint: "Give more of the run id" });
    return { run: ids[0] ?? wanted, records: ids.length ? records.filter((r) => r.runId === ids[0]) : [] };
  };
  if ("run" in target && !("last" in target)) {
    const { run, records: inRun } = runOf(target.run);
    if (inRun.length === 0) throw new UsageError(`No audit record has run id or conversation "${target.run}"`, { code: "E_UNDO_NOT_FOUND", hint: 'Run ids are in "opsterm audit log --json" (runId); a number is read as a record seq' });
    const commands = inRun.filter((r) => COMMAND_ACTIONS.has(r.action) && r.phase === "intent");
    const writes = inRun.filter((r) => isWriteResult(r) && entriesOf(r).length > 0);
    if (commands.length) {
      const list = commands.slice(0, 5).map((r) => `#${r.seq} ${describe(r)}`).join("; ");
      notes.push(`run ${run} also ran ${commands.length} command(s) (${list}${commands.length > 5 ? "; …" : ""}): opsterm cannot undo what a command changed`);
    }
    if (writes.length === 0) {
      if (commands.length) throw new DataError("E_UNDO_EXEC", `Run ${run} wrote no file through opsterm, it only ran commands: opsterm cannot undo what a command changed`);
      throw new DataError("E_UNDO_NOTHING", `Run ${run} wrote no file; there is nothing to undo`);
    }
    return { writes, run, notes };
  }
  const scope = target.run === undefined ? records : runOf(target.run).records;
  const last = scope.filter((r) => isWriteResult(r) && entriesOf(r).length > 0).at(-1);
  if (!last) throw new DataError("E_UNDO_NOTHING", target.run === undefined ? "The audit log has no file write to undo" : `Run ${target.run} wrote no file; there is nothing to undo`);
  // Say so when the last thing done was a command: --last skips it, it cannot be undone.
  const later = scope.filter((r) => r.seq > last.seq && COMMAND_ACTIONS.has(r.action) && r.phase === "intent");
  if (later.length) {
    const list = later.slice(-3).map((r) => `#${r.seq} ${describe(r)}`).join("; ");
    notes.push(`${later.length} command(s) ran after that write (${later.length > 3 ? "…; " : ""}${list}): opsterm cannot undo what a command changed; --last undoes the last file write`);
  }
  return { writes: [last], notes };
}

async function load(files: AuditFiles, ctx: Ctx, commit: string, repoPath: string, state: StateArgs | undefined): Promise<Loaded> {
  const content = await snapshotContent(files, commit, repoPath, { pathEnv: ctx.env.PATH });
  if (content === null) return { content: null, stored: true, sha256: null, state };
  if (state?.stored === false || (!state && (STUB.test(content.toString("latin1")) || SECRET_STUB.test(content.toString("latin1"))))) {
    const stub = STUB.exec(content.toString("latin1"));
    return { content, stored: false, sha256: state?.sha256 ?? stub?.[2], state };
  }
  return { content, stored: true, sha256: state?.sha256 ?? sha256(content), state };
}

/** Per file: the state before the first write and after the last, checked to form one chain. */
async function plan(files: AuditFiles, ctx: Ctx, records: AuditRecord[], writes: AuditRecord[]): Promise<{ plans: Plan[]; broken: { plan: Plan; message: string }[] }> {
  const groups = new Map<string, WriteEntry[]>();
  for (const rec of writes) {
    for (const e of entriesOf(rec, intentOf(records, rec))) {
      const key = `${e.server}\0${e.remote}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
  }
  const plans: Plan[] = [];
  const broken: { plan: Plan; message: string }[] = [];
  for (const entries of groups.values()) {
    const first = entries[0];
    const last = entries.at(-1)!;
    const p: Plan = {
      server: first.server,
      via: last.via,
      path: first.remote,
      writes: entries.map((e) => e.seq),
      before: await load(files, ctx, first.before, first.repoPath, first.beforeState),
      after: await load(files, ctx, last.after, last.repoPath, last.afterState),
    };
    const where = `${p.server}:${p.path}`;
    if (!p.before.stored) {
      const why = SECRET_STUB.test(p.before.content?.toString("latin1") ?? "") || p.before.sha256 === undefined ? "it was a secret (put --from-vault)" : "it was larger than the 8 MiB snapshot limit";
      throw new DataError("E_UNDO_NO_CONTENT", `The content of ${where} before write #${first.seq} was not kept in the snapshot (${why}), so it cannot be restored`, {
        hint: `"opsterm audit show ${first.seq}" shows what was recorded`,
      });
    }
    if (p.after.content !== null && p.after.sha256 === undefined) {
      throw new DataError("E_UNDO_NO_CONTENT", `Write #${last.seq} of ${where} was a secret (put --from-vault): its content was not recorded, so opsterm cannot tell whether the file still holds it`);
    }
    // Several writes of one file: each must start from what the one before left behind.
    for (let i = 1; i < entries.length; i++) {
      const prev = await load(files, ctx, entries[i - 1].after, entries[i - 1].repoPath, entries[i - 1].afterState);
      const next = await load(files, ctx, entries[i].before, entries[i].repoPath, entries[i].beforeState);
      if (prev.sha256 !== next.sha256) {
        broken.push({ plan: p, message: `${where} changed between write #${entries[i - 1].seq} and write #${entries[i].seq} (by a command, or outside opsterm)` });
        break;
      }
    }
    plans.push(p);
  }
  // Newest write first; the files of one write (scp -r) in reverse order too (the sort is stable).
  plans.reverse().sort((a, b) => b.writes.at(-1)! - a.writes.at(-1)!);
  return { plans, broken };
}

function text(content: Buffer | null, label: string): string {
  if (content === null) return "";
  if (content.includes(0)) return `(binary content of ${label}: ${content.length} bytes, sha256 ${sha256(content)})\n`;
  return content.toString("utf8");
}

async function diffOf(from: { label: string; content: Buffer | null }, to: { label: string; content: Buffer | null }): Promise<string> {
  const { createTwoFilesPatch } = await import("diff");
  if (from.content !== null && to.content !== null && from.content.equals(to.content)) return "";
  return createTwoFilesPatch(from.content === null ? "/dev/null" : from.label, to.content === null ? "/dev/null" : to.label, text(from.content, from.label), text(to.content, to.label), "", "", { context: 3 });
}

/** Restores the files the target names; see UndoService.undo(). */
export async function runUndo(ctx: Ctx, target: UndoTarget, options: UndoOptions): Promise<UndoReport> {
  const files = auditFiles(ctx.paths.dataDir);
  const records = readRecords(files);
  const { writes, run, notes } = selectWrites(records, target);
  const { plans, broken } = await plan(files, ctx, records, writes);
  const { redactor } = await currentRedactor(ctx);
  const redact = (s: string) => redactor.redact(s).text;
  const dryRun = Boolean(options.dryRun);
  const base = { origin: options.origin, actor: options.actor, conversation: options.conversation };
  const approval = { preApproved: options.preApproved, approver: options.approver, signal: options.signal };
  const report: UndoReport = { ok: false, dryRun, exitCode: EXIT.OK, ...(run ? { run } : {}), files: [], notes };

  const fileOf = (p: Plan): UndoFile => {
    const s = p.before.state;
    return {
      server: p.server,
      path: p.path,
      op: p.before.content === null ? "remove" : "restore",
      writes: p.writes,
      ...(p.before.content !== null && s?.mode ? { mode: s.mode } : {}),
      ...(p.before.content !== null && s?.uid !== undefined && s.gid !== undefined ? { uid: s.uid, gid: s.gid } : {}),
      status: "not-run",
    };
  };
  const fail = (result: ActionResult, file: UndoFile, status: UndoFile["status"]): UndoReport => {
    const e = result.error ?? { code: "E_SCP_FAILED" as const, message: `The undo of ${file.server}:${file.path} failed` };
    file.status = status;
    file.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    const code = exitCodeFor(result);
    return { ...report, exitCode: e.code === "E_PRECONDITION" ? EXIT.TEMPORARY : code === 0 ? EXIT.FAILURE : code, error: file.error };
  };

  // 1. Every file must still hold what opsterm wrote; read each one now (through the gate).
  const current = new Map<Plan, Buffer | null>();
  let conflicts = 0;
  for (const p of plans) {
    const file = fileOf(p);
    report.files.push(file);
    const read = await options.actions.run(
      { ...base, kind: "read", target: p.server, via: p.via, path: p.path, summary: "read file (before an undo)", params: { maxBytes: 16 * 1024 * 1024 } } as ActionRequest,
      approval,
    );
    let now: Buffer | null;
    let nowSha: string | null;
    if (read.error?.code === "E_SCP_NOT_FOUND") {
      now = null;
      nowSha = null;
    } else if (read.error || exitCodeFor(read) !== 0) {
      return fail(read, file, "failed");
    } else {
      const data = read.data as { content: Buffer; truncated?: boolean };
      nowSha = String(read.details.sha256);
      now = data.truncated ? null : data.content;
    }
    current.set(p, now);
    const label = `${p.server}:${p.path}`;
    const chainBroken = broken.find((b) => b.plan === p);
    if (nowSha !== p.after.sha256 || chainBroken) {
      conflicts++;
      file.status = "conflict";
      const afterLabel = `${label} (as written by #${p.writes.at(-1)})`;
      const written = p.before.stored && p.after.stored ? await diffOf({ label: `${label} (before #${p.writes[0]})`, content: p.before.content }, { label: afterLabel, content: p.after.content }) : "(content not stored in the snapshot)\n";
      const since = p.after.stored && (now !== null || nowSha === null) ? await diffOf({ label: afterLabel, content: p.after.content }, { label: `${label} (now)`, content: now }) : "(content too large to compare)\n";
      file.conflict = { expectedSha256: p.after.sha256 ?? null, currentSha256: nowSha, written: redact(written), since: redact(since) };
      const was = p.after.sha256 === null ? "removed it" : `left sha256 ${p.after.sha256!.slice(0, 12)}…`;
      const is = nowSha === null ? "it is gone" : `it has sha256 ${nowSha.slice(0, 12)}…`;
      file.error = {
        code: "E_UNDO_CONFLICT",
        message: chainBroken ? chainBroken.message : `${label} changed since write #${p.writes.at(-1)} (the write ${was}, now ${is})`,
        hint: "Undo restores only files that still hold what opsterm wrote; merge by hand (the diffs show the three states)",
      };
      continue;
    }
    file.diff = redact(await diffOf({ label: `${label} (now)`, content: now }, { label: `${label} (restored)`, content: p.before.content }));
  }
  if (conflicts) {
    const first = report.files.find((f) => f.status === "conflict")!;
    for (const f of report.files) if (f.status !== "conflict") f.status = "not-run";
    return {
      ...report,
      exitCode: EXIT.TEMPORARY,
      error: { code: "E_UNDO_CONFLICT", message: `${conflicts === 1 ? first.error!.message : `${conflicts} files changed since they were written (first: ${first.error!.message})`}; nothing was written`, hint: first.error!.hint },
    };
  }

  // 2. One write per file through the gate, newest first.
  for (const [i, p] of plans.entries()) {
    const file = report.files[i];
    const seqs = p.writes.map((s) => `#${s}`).join(", ");
    const request = {
      ...base,
      kind: "write",
      target: p.server,
      via: p.via,
      path: p.path,
      summary: file.op === "remove" ? `undo ${seqs}: remove file (it did not exist before)` : `undo ${seqs}: restore file (${p.before.content!.length} bytes${file.mode ? `, mode ${file.mode}` : ""}${file.uid !== undefined ? `, owner ${file.uid}:${file.gid}` : ""})`,
      display: file.diff || undefined,
      params:
        file.op === "remove"
          ? { remove: true, expectSha256: p.after.sha256 }
          : {
              content: p.before.content!,
              expectSha256: p.after.sha256,
              ...(file.mode ? { mode: Number.parseInt(file.mode, 8), forceMode: true } : {}),
              ...(file.uid !== undefined ? { owner: { uid: file.uid, gid: file.gid } } : {}),
            },
    } as ActionRequest;
    if (dryRun) {
      const preview = await options.actions.preview(request);
      file.status = "would-undo";
      if (preview.verdict.decision === "reject") {
        file.error = { code: "E_POLICY_REJECT", message: `Refused by policy (${preview.verdict.rule}): ${preview.verdict.reason}` };
        return { ...report, exitCode: EXIT.DENIED, error: file.error };
      }
      continue;
    }
    const result = await options.actions.run(request, approval);
    if (result.auditSeq !== undefined) file.auditSeq = result.auditSeq;
    if (exitCodeFor(result) !== 0) {
      for (const rest of report.files.slice(i + 1)) rest.status = "not-run";
      return fail(result, file, result.error?.code === "E_PRECONDITION" ? "conflict" : "failed");
    }
    file.status = "undone";
  }
  return { ...report, ok: true, exitCode: EXIT.OK };
}
