/**
 * Entry point: the host runtime, the built-in plugins, the CLI, the exit code.
 */
import { runCli } from "./cli/run.ts";
import { hostRuntime } from "./kernel/runtime.ts";
import { BUILTIN_PLUGINS } from "../plugins/index.ts";

const runtime = hostRuntime();
// The one exit path: nothing written to a pipe is lost because the process ended first.
runCli(runtime, BUILTIN_PLUGINS).then(
  async (code) => {
    await runtime.drain?.();
    runtime.exit(code);
  },
  async (error: unknown) => {
    runtime.stderr.write(`opsterm: fatal: ${error instanceof Error ? error.stack : String(error)}\n`);
    await runtime.drain?.();
    runtime.exit(70);
  },
);
