/**
 * Which generated commands run in the sandbox: those the classifier auto-allows, each with its
 * time limit (2 s, plus the declared duration of a counted interval: `vmstat 1 3`, `top -d 1 -n 2`).
 */
import { classify } from "../../../../plugins/policy/engine.ts";
import { EMPTY_RULES } from "../../../../plugins/policy/user-rules.ts";
import type { Job } from "./sandbox.ts";
import { generateVariants } from "./variants.ts";

import { cpus, loadavg } from "node:os";

/**
 * 2 s of wall time on an idle machine. On a loaded one (load average above the core count) the
 * same work takes longer under strace, so the limit grows with load/cores, up to 10 s: a command
 * that never ends still hits it, a slow `sysctl -a` does not.
 */
export const BASE_LIMIT = Math.min(10, 2 * Math.max(1, loadavg()[0] / Math.max(1, cpus().length)));

/** Seconds a counted-interval command says it will take. */
export function declaredSeconds(command: string): number {
  const interval = /^(vmstat|iostat|mpstat|sar)\b.*?\b(\d+) (\d+)\s*$/.exec(command);
  if (interval) return Number(interval[2]) * Number(interval[3]);
  const top = /^top\b/.test(command) ? command : "";
  if (top) {
    const n = Number(/-b?n\s*(\d+)/.exec(top)?.[1] ?? 1);
    const d = Number(/-d\s*([\d.]+)/.exec(top)?.[1] ?? 3);
    return n * d;
  }
  const ping = /^ping\b.*-c\s*(\d+)/.exec(command);
  return ping ? Number(ping[1]) : 0;
}

export function autoAllowedJobs(commands: string[] = generateVariants()): { jobs: Job[]; total: number } {
  const jobs: Job[] = [];
  for (const command of commands) {
    if (classify(command, {}, EMPTY_RULES).decision !== "auto-allow") continue;
    jobs.push({ command, limit: Math.round((BASE_LIMIT + declaredSeconds(command)) * 10) / 10 });
  }
  return { jobs, total: commands.length };
}

/** A deterministic spread of `n` jobs (every k-th), always including the seeds at the end. */
export function sample(jobs: Job[], n: number, keep: (j: Job) => boolean): Job[] {
  if (jobs.length <= n) return jobs;
  const kept = jobs.filter(keep);
  const rest = jobs.filter((j) => !keep(j));
  const step = rest.length / Math.max(1, n - kept.length);
  const picked: Job[] = [];
  for (let i = 0; picked.length < n - kept.length && Math.floor(i) < rest.length; i += step) picked.push(rest[Math.floor(i)]);
  return [...kept, ...picked];
}
