/**
 * `bash -c <command>` with the command as one argv element (no second shell parse), in its own
 * process group so an interrupt or a deadline stops everything it started.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import type { ErrorCode, Execution, ExecuteOutcome } from "../../src/kernel/index.ts";
import { pipeInput } from "../../src/lib/pipe-input.ts";

const DEFAULT_CAPTURE = 1024 * 1024;

export interface LocalParams {
  /** Hand the terminal to the command (a person runs a suggestion): nothing is captured. */
  inherit?: boolean;
}

export function runLocal(run: Execution): Promise<ExecuteOutcome> {
  const params = run.params as LocalParams;
  const max = run.io.maxCapture ?? DEFAULT_CAPTURE;
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", run.command], {
      stdio: params.inherit ? "inherit" : ["pipe", "pipe", "pipe"],
      env: run.ctx.env as NodeJS.ProcessEnv,
      cwd: run.action.cwd ?? run.ctx.runtime.cwd(),
      detached: !params.inherit,
    });
    const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const size = { stdout: 0, stderr: 0 };
    const truncated = { stdout: false, stderr: false };
    let stopped: { code: ErrorCode; message: string } | undefined;
    const stop = (why: { code: ErrorCode; message: string }) => {
      stopped ??= why;
      const kill = (signal: NodeJS.Signals) => {
        try {
          if (child.pid && !params.inherit) process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          // already gone
        }
      };
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 2000).unref();
    };
    const onAbort = () => stop({ code: "E_INTERRUPTED", message: "interrupted: exit status unknown" });
    run.signal.addEventListener("abort", onAbort, { once: true });
    const timer = run.io.timeoutMs ? setTimeout(() => stop({ code: "E_EXEC_TIMEOUT", message: `the command did not finish within ${run.io.timeoutMs! / 1000} s` }), run.io.timeoutMs) : undefined;
    for (const which of ["stdout", "stderr"] as const) {
      const stream = child[which];
      if (!stream) continue;
      const sink = which === "stdout" ? run.io.onStdout : run.io.onStderr;
      stream.on("data", (chunk: Buffer) => {
        const room = max - size[which];
        if (room < chunk.length) truncated[which] = true;
        if (room > 0) {
          const part = chunk.subarray(0, room);
          captured[which].push(part);
          size[which] += part.length;
        }
        const pending = sink?.(chunk);
        if (pending && typeof pending.then === "function") {
          stream.pause();
          pending.then(() => stream.resume(), () => stream.resume());
        }
      });
    }
    if (child.stdin) pipeInput(child.stdin, run.io.stdin);
    child.on("error", (error) => finish(null, { code: "E_LOCAL_SPAWN", message: `cannot run bash: ${error.message}` }));
    child.on("close", (code, signal) => finish(code, signal && !stopped ? { code: "E_LOCAL_SIGNAL", message: `the command was killed by signal ${signal}` } : undefined));
    let done = false;
    function finish(code: number | null, error?: { code: ErrorCode; message: string }) {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      run.signal.removeEventListener("abort", onAbort);
      const why = stopped ?? error;
      resolve({
        exitCode: why ? null : code,
        completed: !why && code !== null,
        stdout: params.inherit ? undefined : Buffer.concat(captured.stdout).toString("utf8"),
        stderr: params.inherit ? undefined : Buffer.concat(captured.stderr).toString("utf8"),
        truncated,
        error: why,
      });
    }
  });
}
