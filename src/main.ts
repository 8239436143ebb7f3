/**
 * Entry point: the host runtime, the built-in plugins, the CLI, the exit code.
 */
import { runCli } from "./cli/run.ts";
import { hostRuntime } from "./kernel/runtime.ts";
import { BUILTIN_PLUGINS } from "../plugins/index.ts";

const runtime = hostRuntime();
runCli(runtime, BUILTIN_PLUGINS).then(
  (code) => runtime.exit(code),
  (error: unknown) => {
    runtime.stderr.write(`opsterm: fatal: ${error instanceof Error ? error.stack : String(error)}\n`);
    runtime.exit(70);
  },
);
