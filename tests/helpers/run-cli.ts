/**
 * Runs the real CLI (runCli with the built-in plugins) in-process with captured stdio and a
 * temp OPSTERM_HOME: the full dispatch path, fast enough for table tests.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/run.ts";
import { testRuntime } from "./test-runtime.ts";
import type { OpstermPlugin } from "../../src/kernel/plugin.ts";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = "opsterm-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes an inline file tree: `{ "a/b.yaml": "x: 1" }`. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return root;
}

export async function runInProcess(
  argv: string[],
  options: { home: string; cwd?: string; env?: Record<string, string>; plugins?: OpstermPlugin[]; stdin?: string } = { home: tempDir() },
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => (stdout += c.toString()));
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? "");
  const runtime = testRuntime({
    home: options.home,
    argv,
    env: options.env,
    cwd: options.cwd,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: out as unknown as NodeJS.WriteStream,
    stderr: err as unknown as NodeJS.WriteStream,
  });

  const code = await runCli(runtime, options.plugins ?? BUILTIN_PLUGINS);
  return { code, stdout, stderr };
}
