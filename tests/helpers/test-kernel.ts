/**
 * A real kernel with in-memory stdio and a temp OPSTERM_HOME, for tests that exercise the hook
 * bus, services and commands without spawning a process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createKernel, type Kernel } from "../../src/kernel/kernel.ts";
import type { OpstermPlugin } from "../../src/kernel/plugin.ts";
import { testRuntime } from "./test-runtime.ts";
import type { CommandContext } from "../../src/kernel/context.ts";

export interface TestKernel {
  kernel: Kernel;
  ctx: CommandContext;
  home: string;
  stdout: () => string;
  stderr: () => string;
}

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = "";
  stream.on("data", (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

/** Plugins are built-in unless given as `{ plugin, source: "user" }` (as `opsterm plugin add` loads them). */
export async function createTestKernel(plugins: (OpstermPlugin | { plugin: OpstermPlugin; source: "user" })[], options: { env?: Record<string, string>; home?: string } = {}): Promise<TestKernel> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "opsterm-test-"));
  const out = capture();
  const err = capture();
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  const runtime = testRuntime({ home, env: options.env, stdin, stdout: out.stream, stderr: err.stream });

  const kernel = await createKernel({
    runtime,
    version: "test",
    plugins: plugins.map((p) => ("source" in p && "plugin" in p ? { plugin: p.plugin, source: "user" as const, path: `/plugins/${p.plugin.name}.mjs` } : { plugin: p as OpstermPlugin, source: "builtin" as const })),
    color: { stdout: false, stderr: false },
    debug: false,
  });
  const ctx = kernel.commandContext({ name: "test", plugin: "test" }, { json: false }, new AbortController().signal);
  return { kernel, ctx, home, stdout: out.text, stderr: err.text };
}
