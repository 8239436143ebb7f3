/**
 * The local plugin: serves the `local` action kind — a command run on this machine (a suggested
 * command, a workflow's local step) after the gate classified, approved and audited it.
 */
import { definePlugin, UsageError } from "../../src/kernel/index.ts";

export default definePlugin({
  name: "local",
  apiVersion: 1,
  description: "Runs approved commands on this machine (bash -c), for suggestions and workflow steps",
  setup(ctx) {
    ctx.registerExecutor({
      kind: "local",
      async resolve(request) {
        if (request.target !== "local") throw new UsageError(`A local action runs on "local", not "${request.target}"`, { code: "E_TARGET" });
        return { id: "local", scope: "local" };
      },
      async execute(run) {
        const { runLocal } = await import("./run.ts");
        return runLocal(run);
      },
    });
  },
});
