/**
 * The workflow model: what both file formats (the original OpsTerm `workflows.yaml` and one
 * `workflows/NAME.yaml` per workflow) are read into, and what a run records.
 */

/** Where a workflow came from. */
export interface WorkflowSource {
  scope: "global" | "workspace";
  path: string;
  /** `original`: an entry of workflows.yaml; `file`: workflows/NAME.yaml. */
  format: "original" | "file";
}

export interface VarDef {
  /** Undefined: the variable must be given with --var. */
  default?: string;
  desc?: string;
}

export type StepAction =
  | { type: "exec"; command: string }
  | { type: "local"; command: string }
  | { type: "put"; src: string; dest: string; mode?: number; recursive: boolean }
  | { type: "get"; src: string; dest: string }
  | { type: "confirm"; message: string }
  | { type: "wait"; seconds?: number; until?: string; local: boolean; timeoutMs: number; intervalMs: number };

export interface StepDef {
  index: number;
  name: string;
  action: StepAction;
  /** Target spec for remote steps (id, `a,b`, `web*`, `@tag`); may hold {{vars}}. */
  targets?: string;
  when?: string;
  retries: number;
  /** First pause between attempts; doubled each time. */
  backoffMs: number;
  timeoutMs: number;
  onError: "stop" | "continue";
  always: boolean;
  parallel?: number;
  /** Ask before the step (the original's `confirm: true`). */
  confirm?: string;
  /** Pause after the step (the original's `wait: N`). */
  waitAfterMs?: number;
  /** file:line:col of the step. */
  at: string;
}

export interface WorkflowDef {
  name: string;
  desc?: string;
  source: WorkflowSource;
  /** Where local commands run and relative local paths start: the project of a workspace file, else the current directory. */
  baseDir?: string;
  vars: Record<string, VarDef>;
  targets?: string;
  parallel?: number;
  notify?: string;
  steps: StepDef[];
  at: string;
}

export type HostStatus = "ok" | "failed" | "skipped" | "refused" | "interrupted" | "dropped" | "timeout";

/** One step on one host (or `local`) in a run record. */
export interface HostRecord {
  host: string;
  status: HostStatus;
  exitCode: number | null;
  durationMs: number;
  attempts: number;
  auditSeq?: number;
  error?: string;
}

export interface StepRecord {
  index: number;
  name: string;
  kind: StepAction["type"];
  hosts: HostRecord[];
}

export type RunStatus = "ok" | "failed" | "refused" | "interrupted" | "running";

/** A run as the history database keeps it. */
export interface RunRecord {
  runId: string;
  workflow: string;
  status: RunStatus;
  exitCode: number | null;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  cron: boolean;
  resumedFrom?: string;
  vars: Record<string, string>;
  steps: StepRecord[];
}
