/**
 * Run records in the history database: a run is recorded when it starts and again when it ends
 * (mode `workflow`, the run id in the history row, the whole record as its data). The row's text
 * carries workflow, status and exit code, so listing runs needs no second read per row.
 */
import { UsageError, type CommandContext } from "../../src/kernel/index.ts";
import type { RunRecord } from "./types.ts";

export interface RunSummary {
  runId: string;
  workflow: string;
  status: string;
  exitCode: number | null;
  cron: boolean;
  at: string;
  durationMs?: number;
}

const TEXT = /^workflow (\S+) (\S+) exit=(\S+) cron=([01]) run (\S+)$/;

export async function listRuns(ctx: CommandContext, options: { limit: number; workflow?: string }): Promise<RunSummary[]> {
  const history = ctx.use("history");
  // Two rows per run (start, end), and other workflows' rows when filtering: look further back.
  // "exit" and "cron" are in every run record's text, not in the workflow entries migrate brought over from the original's history.
  const entries = await history.search({ mode: "workflow", limit: Math.min(options.limit * 2 * (options.workflow ? 10 : 1) + 2, 100_000), query: `workflow exit cron${options.workflow ? ` ${options.workflow}` : ""}` });
  const seen = new Set<string>();
  const runs: RunSummary[] = [];
  for (const e of entries) {
    const m = TEXT.exec(e.input);
    if (!m || seen.has(m[5])) continue;
    seen.add(m[5]);
    if (options.workflow && m[1] !== options.workflow) continue;
    runs.push({ runId: m[5], workflow: m[1], status: m[2], exitCode: m[3] === "-" ? null : Number(m[3]), cron: m[4] === "1", at: e.at, durationMs: e.durationMs });
    if (runs.length >= options.limit) break;
  }
  return runs;
}

/** The newest record of a run, by its id or a unique prefix of it (at least 6 characters). */
export async function getRun(ctx: CommandContext, id: string): Promise<RunRecord> {
  const text = id.trim().toLowerCase();
  if (!/^[0-9a-f-]{6,36}$/.test(text)) throw new UsageError(`"${id}" is not a run id`, { code: "E_WORKFLOW_RUN_UNKNOWN", hint: '"opsterm workflow runs" lists the run ids' });
  const history = ctx.use("history");
  const words = text.split("-").filter(Boolean);
  const query = words.map((w, i) => (i === words.length - 1 && text.length < 36 ? `${w}*` : w)).join(" ");
  const entries = await history.search({ mode: "workflow", query, limit: 50 });
  const matches = entries.filter((e) => e.runId?.startsWith(text));
  const ids = new Set(matches.map((e) => e.runId));
  if (ids.size === 0) throw new UsageError(`No workflow run ${id}`, { code: "E_WORKFLOW_RUN_UNKNOWN" });
  if (ids.size > 1) throw new UsageError(`Run id prefix ${id} matches ${ids.size} runs`, { code: "E_WORKFLOW_RUN_UNKNOWN", hint: "Give more of the id" });
  const full = await history.get(matches[0].uid);
  const run = full?.extra?.run as RunRecord | undefined;
  if (!run || typeof run !== "object" || !Array.isArray(run.steps)) throw new UsageError(`Run ${id} has no readable record`, { code: "E_WORKFLOW_RUN_UNKNOWN" });
  return run;
}
