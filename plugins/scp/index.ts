/**
 * The scp plugin: `opsterm scp`, `put` and `get`, and the file action kinds (`read`, `write`,
 * `list`, `stat`, `find`) that the agent, workflows and MCP use through the gate.
 */
import { definePlugin, type AnyExecutor, type Executor } from "../../src/kernel/index.ts";
import { scpCommands } from "./commands.ts";

const KINDS = ["read", "write", "list", "stat", "find"] as const;

export default definePlugin({
  name: "scp",
  apiVersion: 1,
  description: "File transfer over SFTP: scp, put, get; remote file reads, writes and listings",
  commands: scpCommands,
  setup(ctx) {
    // The SFTP code (ssh2) loads on the first file action, not at start-up.
    let loaded: Promise<Map<string, AnyExecutor>> | undefined;
    const load = () => (loaded ??= import("./executors.ts").then((m) => new Map(m.fileExecutors(ctx).map((e) => [e.kind, e]))));
    for (const kind of KINDS) {
      const executor: Executor = {
        kind,
        resolve: async (request, actionCtx) => (await load()).get(kind)!.resolve(request, actionCtx),
        execute: async (run) => (await load()).get(kind)!.execute(run),
      };
      ctx.registerExecutor(executor);
    }
  },
});
