/**
 * The ssh plugin's executors: `exec` runs a command over the pooled connection; `session` hands
 * an interactive login to the system ssh. The gate has already classified, approved and audited
 * the action when execute() is called.
 */
import { spawn } from "node:child_process";
import { EXIT, isOpstermError, type ActionContext, type ActionRequest, type Execution, type ExecuteOutcome, type Executor } from "../../src/kernel/index.ts";
import { pipeInput } from "../../src/lib/pipe-input.ts";
import { shellQuote } from "../../src/lib/shell-quote.ts";
import type { InventoryLoader } from "./inventory-cache.ts";
import type { ConnectionPool } from "./pool.ts";
import { announceShadows, connectOptions, sshSettings } from "./settings.ts";
import { resolveOne } from "./target.ts";
import type { ResolvedServer, ServerTarget } from "./types.ts";

export type ServerExecutor = Executor<ServerTarget>;
export type { ServerTarget };

/** What the executors share with the rest of the plugin: its pool and its inventory cache. */
export interface SshDeps {
  pool: () => Promise<ConnectionPool>;
  inventory: InventoryLoader;
}

/** The inventory entry an action names (`request.via` replaces its jump chain). */
export async function resolveServerTarget(deps: Pick<SshDeps, "inventory">, request: ActionRequest, ctx: Pick<ActionContext, "env" | "paths" | "io">, what = `a ${request.kind} action`): Promise<ServerTarget> {
  const server = resolveOne(await deps.inventory(ctx), request.target, { via: request.via, what });
  // A workspace entry that hides a global one is said out loud, whoever acts on it.
  announceShadows(ctx, [server]);
  return targetOf(server);
}

export function targetOf(server: ResolvedServer): ServerTarget {
  return {
    id: server.id,
    tier: server.tier,
    host: server.host,
    port: server.port,
    user: server.user,
    scope: server.scope,
    at: server.at,
    shadows: server.shadows,
    via: server.via.map((h) => h.id),
    server,
  };
}

/**
 * A connection failure means nothing reached the host: its error's exit code says why (69
 * unreachable or login failed, 74 known_hosts unreadable, 77 host key refused, 78 bad key file, 130).
 */
export function connectFailure(error: unknown): ExecuteOutcome {
  const e = isOpstermError(error) ? error : undefined;
  return {
    exitCode: null,
    completed: false,
    error: { code: e?.code ?? "E_SSH_CONNECT", message: (error as Error).message, hint: e?.hint, exitCode: e?.exitCode ?? EXIT.UNAVAILABLE },
  };
}

/** Opens (or reuses) the connection to the action's server with this invocation's ssh settings. */
export async function lease(pool: ConnectionPool, ctx: ActionContext, server: ResolvedServer, signal: AbortSignal, connectTimeoutMs?: number) {
  const settings = await sshSettings(ctx);
  return pool.acquire(server, connectOptions(ctx, settings, { signal, ...(connectTimeoutMs ? { connectTimeoutMs } : {}) }));
}

export function execExecutor(deps: SshDeps): ServerExecutor {
  return {
    kind: "exec",
    resolve: (request, ctx) => resolveServerTarget(deps, request, ctx),
    async execute(run: Execution<ServerTarget>): Promise<ExecuteOutcome> {
      let held;
      try {
        held = await lease(await deps.pool(), run.ctx, run.target.server, run.signal, numberParam(run.params.connectTimeoutMs));
      } catch (error) {
        return connectFailure(error);
      }
      try {
        // The directory is quoted, never parsed: a cwd cannot smuggle a second command in.
        const line = run.action.cwd === undefined ? run.command : `cd -- ${shellQuote(run.action.cwd)} && ${run.command}`;
        const r = await held.conn.exec(line, {
          signal: run.signal,
          killOnAbort: run.params.killOnAbort === true,
          timeoutMs: run.io.timeoutMs,
          maxCapture: run.io.maxCapture,
          onStdout: run.io.onStdout,
          onStderr: run.io.onStderr,
          stdin: run.io.stdin,
        });
        const error = r.error ?? (r.signal ? { code: "E_REMOTE_SIGNAL", message: `the remote command was killed by signal ${r.signal}` } : undefined);
        return { exitCode: r.exitCode, completed: r.exitCode !== null, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, error, details: r.signal ? { signal: r.signal } : undefined };
      } finally {
        held.release();
      }
    },
  };
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /^-|[\x00-\x1f\x7f\s]/;

/** The argv for the system ssh. Nothing here runs a shell. */
export function sshArgv(server: ResolvedServer, knownHostsFile?: string): string[] {
  for (const h of [server, ...server.via]) {
    for (const [what, v] of [["id", h.id], ["host", h.host], ["user", h.user]] as const) {
      if (!v || UNSAFE.test(v)) throw new Error(`Refusing ${what} ${JSON.stringify(v)} of "${h.id}": it starts with "-" or holds spaces or control characters`);
    }
  }
  const argv: string[] = [];
  if (server.port !== 22) argv.push("-p", String(server.port));
  if (server.key) argv.push("-i", server.key);
  if (knownHostsFile) argv.push("-o", `UserKnownHostsFile=${knownHostsFile}`);
  if (server.via.length) argv.push("-J", server.via.map((h) => `${h.user}@${h.host.includes(":") ? `[${h.host}]` : h.host}:${h.port}`).join(","));
  argv.push("--", `${server.user}@${server.host}`);
  return argv;
}

const SIGNAL_NUMBER: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export const sessionExecutor = (deps: SshDeps): ServerExecutor => ({
  kind: "session",
  resolve: (request, ctx) => resolveServerTarget(deps, request, ctx),
  async execute(run) {
    const settings = await sshSettings(run.ctx);
    const argv = sshArgv(run.target.server, settings.knownHostsConfigured ? settings.knownHostsPath : undefined);
    run.ctx.io.debug(`ssh ${argv.join(" ")}`);
    return new Promise((resolve) => {
      // A person's session owns the terminal; a script's gets its input and output through io.
      const { stdin, onStdout, onStderr } = run.io;
      const child = spawn("ssh", argv, { env: run.ctx.env as NodeJS.ProcessEnv, stdio: [stdin === undefined ? "inherit" : "pipe", onStdout ? "pipe" : "inherit", onStderr ? "pipe" : "inherit"] });
      if (child.stdin) pipeInput(child.stdin, stdin);
      child.stdout?.on("data", (c: Buffer) => void onStdout?.(c));
      child.stderr?.on("data", (c: Buffer) => void onStderr?.(c));
      child.on("error", (error) =>
        resolve({ exitCode: null, completed: false, error: { code: "E_SSH_SPAWN", message: `cannot run ssh: ${error.message} (install openssh-client)`, exitCode: EXIT.UNAVAILABLE } }),
      );
      child.on("exit", (code, sig) => resolve({ exitCode: code ?? (sig && SIGNAL_NUMBER[sig] ? 128 + SIGNAL_NUMBER[sig] : 255), completed: true, details: { argv } }));
    });
  },
});

function numberParam(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}
