/**
 * `opsterm audit log|verify|show`. Heavy modules are imported inside the actions.
 */
import { defineCommand, EXIT, IoError, UsageError, type CommandContext, type CommandSpec, type ErrorCode } from "../../src/kernel/index.ts";
import { parseLimit, parseSince as parseSinceOption } from "../../src/lib/args.ts";
import type { AuditRecord } from "./types.ts";

/** `2h`, `7d`, `30m`, or an ISO date/time (the shared parser, with the audit's error code). */
export function parseSince(text: string, now: Date): Date {
  return parseSinceOption(text, now, "E_AUDIT_SINCE");
}

function summary(r: AuditRecord): string {
  const a = r.args ?? {};
  const main = typeof a.command === "string" ? a.command : typeof a.path === "string" ? a.path : Object.keys(a).length ? JSON.stringify(a) : "";
  const oneLine = main.replace(/\s+/g, " ");
  return oneLine.length > 100 ? oneLine.slice(0, 99) + "…" : oneLine;
}

function row(ctx: CommandContext, r: AuditRecord): string {
  const s = ctx.io.style;
  const decision = r.decision ? (r.decision === "reject" ? s.red(r.decision) : r.decision === "auto-allow" ? s.green(r.decision) : s.yellow(r.decision)) : "-";
  const exit = r.exitCode === undefined || r.exitCode === null ? "" : ` exit=${r.exitCode}`;
  // Who approved (tty:alice, flag:--yes) or refused (refused:no-tty) is part of the story.
  const approver = r.approver ? ` ${r.approver.startsWith("refused") ? s.red(r.approver) : r.approver}` : "";
  return `${String(r.seq).padStart(5)}  ${s.dim(r.ts)}  ${r.server}  ${r.action}/${r.phase}  ${decision}${approver}${exit}  ${s.dim(r.actor)}  ${summary(r)}`;
}

const log = defineCommand({
  name: "audit log",
  groupDescription: "Read and verify the tamper-evident log of remote actions",
  description: "List audit records (newest last)",
  options: [
    { flags: "--server <id>", description: "Only records for this server" },
    { flags: "--since <time>", description: "Only records since a duration ago (2h, 7d) or an ISO date" },
    { flags: "--limit <n>", description: "Show at most the last n records", default: 50 },
    { flags: "--json", description: "One JSON record per line" },
  ],
  examples: ["opsterm audit log --server web-1 --since 2h", "opsterm audit log --json --limit 1000 | jq '.[] | select(.decision==\"reject\")'"],
  async action(args, ctx) {
    const limit = parseLimit(args.limit ?? 50, "--limit", "E_AUDIT_LIMIT");
    const since = args.since === undefined ? undefined : parseSince(String(args.since), new Date());
    const server = args.server === undefined ? undefined : String(args.server);
    const { auditFiles, readRecords } = await import("./log.ts");
    const files = auditFiles(ctx.paths.dataDir);
    let records = readRecords(files, (line) => ctx.io.warn(`${files.log} line ${line} is not a JSON record; records after it are not shown (run "opsterm audit verify")`));
    if (server !== undefined) records = records.filter((r) => r.server === server);
    if (since) records = records.filter((r) => Date.parse(r.ts) >= since.getTime());
    records = records.slice(-limit);
    // JSON lines (README "Machine-readable output"): one record per line.
    if (ctx.json) return void records.forEach((r) => ctx.io.out(JSON.stringify(r)));
    if (records.length === 0) return void ctx.io.err("No audit records match.");
    for (const r of records) ctx.io.out(row(ctx, r));
  },
});

const verify = defineCommand({
  name: "audit verify",
  description: "Check the hash chain, the head anchor and the witness; exit 65 naming the first bad record",
  options: [
    { flags: "--json", description: "Print the report as JSON" },
    { flags: "--no-witness", description: "Do not read the witness (the report says it was not checked)" },
  ],
  examples: ["opsterm audit verify", "opsterm audit verify --json"],
  async action(args, ctx) {
    const { auditFiles, verifyLog } = await import("./log.ts");
    const w = await import("./witness.ts");
    const files = auditFiles(ctx.paths.dataDir);
    const { hashes, ...report } = verifyLog(files);
    const checked = { ...report, snapshotAnchors: 0 };
    if (report.ok) {
      // Second anchor: every snapshot commit recorded the audit head at its time.
      const { snapshotAnchors } = await import("./snapshot.ts");
      try {
        const anchors = await snapshotAnchors(files, { pathEnv: ctx.env.PATH });
        checked.snapshotAnchors = anchors.length;
        for (const a of anchors) {
          if (a.seq > hashes.length) {
            Object.assign(checked, { ok: false, firstBadSeq: hashes.length + 1, problem: `snapshot commit ${a.commit.slice(0, 12)} was made after record ${a.seq}, but the log ends at ${hashes.length} (tail truncated)` });
          } else if (a.seq > 0 && hashes[a.seq - 1] !== a.hash) {
            Object.assign(checked, { ok: false, firstBadSeq: a.seq, problem: `record ${a.seq} differs from the one snapshot commit ${a.commit.slice(0, 12)} recorded` });
          }
          if (!checked.ok) break;
        }
      } catch (error) {
        checked.warnings.push(`snapshot anchors not checked: ${(error as Error).message}`);
      }
    }
    // Third anchor, outside opsterm's files: the witness (docs/audit.md "Witness").
    const config = await ctx.config();
    const wc = w.witnessConfig((k) => config.get(k));
    const witness: Record<string, unknown> = { kind: wc.kind, description: w.describeWitness(wc), checked: false };
    if (args.witness === false) {
      checked.warnings.push("the witness was not checked (--no-witness)");
    } else if (wc.kind !== "none" && checked.ok) {
      try {
        const { source, entries } = await w.readWitness(wc, ctx.env);
        const result = w.compareWithWitness(hashes, entries, w.logId(files));
        Object.assign(witness, { checked: true, source, ...result });
        checked.warnings.push(...result.warnings);
        if (wc.kind === "command" && !wc.verifyCommand) checked.warnings.push("audit.witness has no verifyCommand: heads are sent but cannot be checked here");
        if (!result.ok) Object.assign(checked, { ok: false, firstBadSeq: result.firstBadSeq, problem: `${result.problem} [witness: ${source}]` });
      } catch (error) {
        if (!(error instanceof w.WitnessUnreadable)) throw error;
        Object.assign(witness, { unreadable: error.message });
        Object.assign(checked, { ok: false, problem: `the witness (${w.describeWitness(wc)}) cannot be read: ${error.message}` });
      }
    }
    const out = { ...checked, witness };
    if (ctx.json) {
      ctx.io.out(JSON.stringify(out));
      return out.ok ? EXIT.OK : EXIT.DATA;
    }
    const s = ctx.io.style;
    for (const warning of out.warnings) ctx.io.warn(warning);
    if (!out.ok) {
      const at = out.firstBadSeq === undefined ? "" : ` at seq ${out.firstBadSeq}`;
      ctx.io.err(`${ctx.io.errStyle.red("error")} audit log ${files.log} is broken${at}: ${out.problem}`);
      ctx.io.err(
        witness.unreadable
          ? `${ctx.io.errStyle.cyan("hint")}  Make the witness readable ("opsterm help audit" "Witness"), or run with --no-witness to check only the local files`
          : `${ctx.io.errStyle.cyan("hint")}  Keep the file as evidence; see "opsterm help audit" "Recovering" to start a new chain`,
      );
      return EXIT.DATA;
    }
    const head = out.records ? ` head seq ${out.records} (${hashes[hashes.length - 1].slice(0, 16)}…)` : "";
    const wit = witness.checked
      ? `; witness ${witness.description}: ${witness.witnessed} head(s) agree${witness.lastWitnessed ? `, latest seq ${(witness.lastWitnessed as { seq: number }).seq}` : ""}`
      : `; witness ${witness.description}${args.witness === false ? " not checked" : ""}`;
    ctx.io.out(`${s.green("ok")} audit log intact: ${out.records} record(s),${head || " empty"}; ${out.snapshotAnchors} snapshot anchor(s) agree${wit}`);
  },
});

const restart = defineCommand({
  name: "audit restart",
  description: "Keep a broken log as evidence and start a new chain, announced to the witness",
  options: [{ flags: "--json", description: "Print { archived, previous } as JSON" }],
  examples: ["opsterm audit restart"],
  async action(_args, ctx) {
    const { auditFiles, restartChain } = await import("./log.ts");
    const w = await import("./witness.ts");
    const files = auditFiles(ctx.paths.dataDir);
    const config = await ctx.config();
    const wc = w.witnessConfig((k) => config.get(k));
    const result = await restartChain(files, async (previous) => {
      // First the witness: a restart it did not see would look like a deleted log.
      try {
        await w.sendToWitness(wc, { type: "restart", log: w.logId(files), seq: previous.seq, hash: previous.hash, ts: new Date().toISOString() }, ctx.env);
      } catch (error) {
        throw new IoError("E_AUDIT_WITNESS", `The restart could not be sent to the witness (${w.describeWitness(wc)}): ${(error as Error).message}; nothing was moved`, {
          hint: 'Fix the witness ("opsterm doctor") and run "opsterm audit restart" again',
        });
      }
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify(result));
    ctx.io.out(`archived ${result.archived.join(", ") || "nothing"}; the previous chain ended at record ${result.previous.seq}; the next action starts a new chain at seq 1 (witness: ${w.describeWitness(wc)})`);
  },
});

const show = defineCommand({
  name: "audit show",
  description: "Show one record, its intent/result partner and, for file writes, the snapshot diff",
  usage: "<seq>",
  options: [{ flags: "--json", description: "Print { records, diff } as JSON" }],
  examples: ["opsterm audit show 42"],
  async action(args, ctx) {
    const seq = Number(args.seq);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError(`<seq> must be a record number, got "${args.seq}"`, { code: "E_AUDIT_SEQ" });
    const { auditFiles, readRecords } = await import("./log.ts");
    const files = auditFiles(ctx.paths.dataDir);
    const all = readRecords(files);
    const rec = all.find((r) => r.seq === seq);
    if (!rec) throw new UsageError(`No audit record with seq ${seq} (the log has ${all.length})`, { code: "E_AUDIT_SEQ", hint: 'List records with "opsterm audit log"' });
    const records = [rec];
    // A session's intent is "session-start" and its result "session-end"; other actions keep their name.
    const kind = (a: string) => (a === "session-end" ? "session-start" : a);
    const same = (r: AuditRecord) => r.runId === rec.runId && r.server === rec.server && kind(r.action) === kind(rec.action);
    if (rec.phase === "intent") {
      const result = all.find((r) => r.seq > seq && same(r) && r.phase === "result");
      if (result) records.push(result);
    } else if (rec.phase === "result") {
      const intent = all.filter((r) => r.seq < seq && same(r) && r.phase === "intent").pop();
      if (intent) records.unshift(intent);
    }
    const refs = snapshotRefs(records);
    const diffs: { path: string; before?: string; after?: string; diff?: string; error?: string }[] = [];
    if (refs.length) {
      const { snapshotDiff } = await import("./snapshot.ts");
      const { currentRedactor } = await import("./service.ts");
      const { redactor } = await currentRedactor(ctx);
      for (const ref of refs) {
        try {
          // Snapshots hold raw file content; what reaches the terminal is redacted.
          diffs.push({ ...ref, diff: redactor.redact(await snapshotDiff(files, ref, { pathEnv: ctx.env.PATH })).text });
        } catch (error) {
          diffs.push({ ...ref, error: (error as Error).message });
        }
      }
    }
    const diff = diffs.length ? diffs.map((d) => d.diff ?? "").join("") : null;
    if (ctx.json) return void ctx.io.out(JSON.stringify({ records, diff, diffs }));
    for (const r of records) {
      ctx.io.out(ctx.io.style.bold(`record ${r.seq}`) + ` (${r.phase})`);
      for (const [k, v] of Object.entries(r)) {
        if (k === "seq") continue;
        ctx.io.out(`  ${k.padEnd(10)} ${typeof v === "string" ? v : JSON.stringify(v)}`);
      }
    }
    for (const d of diffs) {
      if (d.error) {
        ctx.io.warn(`snapshot diff of ${d.path} unavailable: ${d.error}`);
        continue;
      }
      ctx.io.out(ctx.io.style.bold(`snapshot ${d.path}: ${d.before?.slice(0, 12) ?? "(none)"} → ${d.after?.slice(0, 12) ?? "(none)"}`));
      ctx.io.out(d.diff || "(no change)");
    }
  },
});

type Ref = { path: string; before?: string; after?: string };

/**
 * Snapshot refs of a record pair, merged by path. Accepted places: the record's `snapshot` field,
 * and `args.snapshot` / `args.snapshots[]` (what the orchestrator passes through as audit args).
 */
export function snapshotRefs(records: AuditRecord[]): Ref[] {
  const byPath = new Map<string, Ref>();
  const add = (v: unknown) => {
    const r = v as Partial<Ref> | null;
    if (!r || typeof r !== "object" || typeof r.path !== "string") return;
    const prev = byPath.get(r.path) ?? { path: r.path };
    if (typeof r.before === "string") prev.before = r.before;
    if (typeof r.after === "string") prev.after = r.after;
    byPath.set(r.path, prev);
  };
  for (const rec of records) {
    add(rec.snapshot);
    add(rec.args?.snapshot);
    if (Array.isArray(rec.args?.snapshots)) for (const s of rec.args.snapshots as unknown[]) add(s);
  }
  return [...byPath.values()].filter((r) => r.before || r.after);
}

const undo = defineCommand({
  name: "undo",
  description: "Put remote files back as they were before a write made through opsterm (put, scp, tools); never undoes an exec",
  usage: "[target]",
  options: [
    { flags: "--last", description: "Undo the last file write (of the run given as target, if any)" },
    { flags: "--dry-run", description: "Check and show what would be restored; write nothing" },
    { flags: "-y, --yes", description: "Approve the undo's writes in advance (rejected actions still never run)" },
    { flags: "--json", description: "Print the report as JSON" },
  ],
  examples: ["opsterm undo --last", "opsterm undo 42 --dry-run", "opsterm undo 3f2a9c1e-… --yes   # every write of a run or conversation, newest first"],
  async action(args, ctx) {
    const raw = args.target === undefined || args.target === null ? undefined : String(args.target).trim();
    const last = Boolean(args.last);
    if (raw === undefined && !last) throw new UsageError("Say what to undo: an audit record seq, a run id, or --last", { code: "E_USAGE", hint: 'See "opsterm audit log" for seqs and "opsterm undo --help"' });
    let target: import("../../src/contracts/undo.ts").UndoTarget;
    if (raw !== undefined && /^\d+$/.test(raw)) {
      if (last) throw new UsageError("--last takes a run id, not a record seq", { code: "E_USAGE" });
      const seq = Number(raw);
      if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError(`<target> must be a record seq or a run id, got "${raw}"`, { code: "E_AUDIT_SEQ" });
      target = { seq };
    } else if (raw !== undefined) {
      if (raw === "" || /[\0-\x1f\x7f]/.test(raw)) throw new UsageError("The run id is empty or holds control characters", { code: "E_UNSAFE_ARG" });
      target = last ? { last: true, run: raw } : { run: raw };
    } else target = { last: true };
    const { runUndo } = await import("./undo.ts");
    const report = await runUndo(ctx, target, { actions: ctx.actions, dryRun: Boolean(args.dryRun), preApproved: Boolean(args.yes), signal: ctx.signal });
    if (ctx.json) {
      ctx.io.out(JSON.stringify(report));
      return report.exitCode;
    }
    const s = ctx.io.style;
    for (const note of report.notes) ctx.io.warn(note);
    for (const f of report.files) {
      const where = `${f.server}:${f.path}`;
      const seqs = f.writes.map((n) => `#${n}`).join(", ");
      const state = [f.mode ? `mode ${f.mode}` : "", f.uid !== undefined ? `owner ${f.uid}:${f.gid}` : ""].filter(Boolean).join(", ");
      const audit = f.auditSeq !== undefined ? `audit #${f.auditSeq}` : "";
      const detail = [state, audit].filter(Boolean).join("; ");
      if (f.status === "undone") {
        ctx.io.out(`${s.green(f.op === "remove" ? "removed" : "restored")} ${where} ${s.dim(`(${f.op === "remove" ? `it did not exist before ${seqs}` : `as before ${seqs}`}${detail ? `; ${detail}` : ""})`)}`);
      } else if (f.status === "would-undo") {
        ctx.io.out(`${s.yellow(f.op === "remove" ? "would remove" : "would restore")} ${where} ${s.dim(`(${f.op === "remove" ? `it did not exist before ${seqs}` : `as before ${seqs}`}${state ? `; ${state}` : ""})`)}`);
        ctx.io.out(f.diff || "(the content is the same; only mode or owner may change)");
      } else if (f.status === "conflict" && f.conflict) {
        ctx.io.out(s.bold(`${where}: three-way diff (before ${seqs} → as written → now)`));
        ctx.io.out(s.dim(`--- what ${seqs} changed (before → as written)`));
        ctx.io.out(f.conflict.written || "(no change)");
        ctx.io.out(s.dim("--- what changed since (as written → now)"));
        ctx.io.out(f.conflict.since || "(no change)");
      }
    }
    if (report.dryRun && report.ok) ctx.io.err(s.dim("dry run: nothing was written (each undo is a write: it asks for approval, or takes --yes)"));
    if (report.error) {
      const { OpstermError } = await import("../../src/kernel/index.ts");
      throw new OpstermError(report.error.code as ErrorCode, report.error.message, { hint: report.error.hint, exitCode: report.exitCode });
    }
    return report.exitCode;
  },
});

export const auditCommands: CommandSpec[] = [log, verify, show, restart, undo];
