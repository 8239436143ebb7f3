/**
 * The server inventory, as the ssh plugin provides it ("inventory") and as other plugins read it,
 * and the connections it lends to built-in executors ("ssh.connections"). Type-only.
 */
import type { Client } from "ssh2";
import type { ActionContext, ActionTarget, ErrorCode } from "../kernel/index.ts";

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
  /** Set when this entry hides one with the same id from the global file (its place and address). */
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
  /** Exactly one server (an id, or a glob/tag naming one); `via` ids replace its jump chain. Throws UsageError otherwise. */
  resolveOne(spec: string, options?: { via?: string[]; what?: string }): Promise<ResolvedServer>;
  /**
   * Adds entries to the global servers.yaml in one locked, validated write (the whole inventory
   * must still load: proxies known, no cycles). An id already there is left alone and reported in
   * `kept`, unless `replace`. For built-ins that bring servers from elsewhere (migrate, import).
   */
  addServers(entries: { id: string; entry: Record<string, unknown> }[], options?: { replace?: boolean }): Promise<{ path: string; added: string[]; replaced: string[]; kept: string[] }>;
  /** resolveOne() as the gate's target of an action on that server (what executors' resolve() return). */
  target(spec: string, options?: { via?: string[]; what?: string }): Promise<ServerTarget>;
}

/** An action's target on an inventory server: what audit and policy see, plus the entry itself. */
export interface ServerTarget extends ActionTarget {
  server: ResolvedServer;
}

/** A pooled connection lent to one action. */
export interface Lease {
  conn: Connection;
  release(): void;
}

/** Built-in executors (the file kinds) borrow the ssh plugin's verified, pooled connections. */
export interface ConnectionLender {
  lease(ctx: ActionContext, server: ResolvedServer, signal: AbortSignal): Promise<Lease>;
}

/** Running one command on an open connection. */
export interface ExecOptions {
  signal?: AbortSignal;
  /**
   * Make sure a cancelled or timed-out command ends on the server: the line first reports the
   * shell's pid (on stderr, removed before anyone sees it), and on abort the command's process
   * group is killed over a second channel when the server ignores the `signal` request (OpenSSH
   * refuses signals to root logins and outside privilege separation). Assumes a POSIX login shell.
   */
  killOnAbort?: boolean;
  /** Called with each chunk; a returned promise pauses the channel until it settles (backpressure to the server). */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  /** Bytes kept per stream in the result; the rest is only streamed. Default 1 MiB. */
  maxCapture?: number;
  /** Deadline for the command; on expiry the channel is closed and the exit status is unknown. */
  timeoutMs?: number;
  /** Deadline for the server to open the channel. Default 10 s. */
  channelTimeoutMs?: number;
  /** Sent to the command's stdin, then EOF; a stream is piped as it arrives (with backpressure). Default: EOF right away. */
  stdin?: string | Uint8Array | AsyncIterable<Uint8Array>;
}

export interface ExecResult {
  /** Remote exit status; null when it is unknown (lost connection, signal, deadline). Never 0 by default. */
  exitCode: number | null;
  /** Signal name when the remote command was killed by one. */
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: { stdout: boolean; stderr: boolean };
  /** Why the exit status is unknown. */
  error?: { code: ErrorCode; message: string };
}

/** An open SSH connection to a server (through its jump chain), verified host keys on every hop. */
export interface Connection {
  server: ResolvedServer;
  /** The ssh2 Client of the target (use it for sftp). */
  client: Client;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Closes the target and every hop, last first. */
  close(): void;
  /** Resolves when the target connection has closed (for whatever reason). */
  closed: Promise<void>;
}


declare module "../kernel/context.ts" {
  interface OpstermServices {
    inventory: InventoryService;
    "ssh.connections": ConnectionLender;
  }
}
