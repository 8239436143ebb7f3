/**
 * What the ssh plugin provides to others: the server inventory ("inventory") and policy-gated,
 * audited remote execution ("remote"). Type-only.
 */
import type { CommandContext, RemoteActionResult } from "../../src/kernel/index.ts";

/** One SSH endpoint: a target or a jump hop. */
export interface Hop {
  /** Inventory id (or the host for an ad-hoc hop). */
  id: string;
  host: string;
  port: number;
  user: string;
  /** Absolute path of the private key to use (`~` expanded), if the inventory names one. */
  key?: string;
}

/** An inventory entry with its jump chain resolved. */
export interface ResolvedServer extends Hop {
  /** The `proxy:` ids as written (empty when direct). */
  proxy: string[];
  /** Every hop to pass through, first hop first (proxies of proxies expanded). */
  via: Hop[];
  tags: string[];
  tier?: string;
  desc?: string;
  /** Which file the entry came from. */
  scope: "global" | "workspace";
  /** file:line:col of the entry. */
  at: string;
  /** Set when this entry hides one with the same id from the global file: where that one was and where it pointed. */
  shadows?: { scope: "global"; at: string; host: string; port: number };
}

export interface InventoryService {
  /** Every server, workspace entries replacing global ones by id, sorted by id. */
  list(): Promise<ResolvedServer[]>;
  /** One server by id, or undefined. */
  get(id: string): Promise<ResolvedServer | undefined>;
  /**
   * Resolves `web1`, `web1,db1`, `web*` or `@prod` (combinable with commas) to servers, in
   * inventory order without duplicates. Throws UsageError when a part matches nothing.
   */
  resolveTargets(spec: string): Promise<ResolvedServer[]>;
}

export interface RemoteExecOptions {
  /** The invocation this runs in (approval prompts, audit run id, abort). */
  ctx: CommandContext;
  origin?: "user" | "ai" | "workflow" | "plugin";
  /** Approved in advance (`--yes`); `reject` verdicts still never run. */
  preApproved?: boolean;
  /** Ask once for a batch: returns an approver id or false. */
  approve?: (action: import("../../src/kernel/index.ts").RemoteAction, verdict: import("../../src/kernel/index.ts").Verdict) => Promise<string | false>;
  /** Deadline for the remote command, after the connection is up. */
  timeoutMs?: number;
  /** Deadline for connecting (per hop). Default 10 s. */
  connectTimeoutMs?: number;
  /** Bytes of stdout/stderr kept in the result per stream (the rest still streams). Default 1 MiB. */
  maxCapture?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** An open SSH connection to a server (through its jump chain); see plugins/ssh/connect.ts. */
export type { Connection, ExecOptions, ExecResult } from "./connect.ts";

export interface RemoteService {
  /** Runs `command` on one inventory server through policy → approval → audit → execute → audit. */
  exec(targetId: string, command: string, options: RemoteExecOptions): Promise<RemoteActionResult>;
  /**
   * Opens a connection to `server` (and its `via` hops) with this invocation's `ssh.*` settings:
   * host keys verified for every hop, deadlines, keepalive. No policy or audit: callers that act
   * on the server (the scp plugin) run it inside their own orchestrated action.
   */
  connect(ctx: CommandContext, server: ResolvedServer, options?: { signal?: AbortSignal }): Promise<import("./connect.ts").Connection>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    inventory: InventoryService;
    remote: RemoteService;
  }
}
