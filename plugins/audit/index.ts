/**
 * The audit plugin: provides the "audit" service (append-only, hash-chained, fail-closed log and
 * the git snapshot store) and the `audit log|verify|show` commands. Setup does no I/O; the log is
 * opened on the first append.
 */
import { definePlugin, IoError, type PluginContext } from "../../src/kernel/index.ts";
import { auditCommands } from "./commands.ts";
import type { AuditService } from "./types.ts";
import type {} from "../../src/contracts/undo.ts";

function lazyService(ctx: PluginContext): AuditService {
  let service: Promise<AuditService> | undefined;
  const load = () =>
    (service ??= import("./service.ts").then(
      (m) => m.createAuditService(ctx),
      (error: unknown) => {
        service = undefined;
        throw new IoError("E_AUDIT_WRITE", `Audit log could not be opened: ${(error as Error).message}; nothing was run`, { cause: error });
      },
    ));
  return {
    append: async (input) => (await load()).append(input),
    snapshot: async (server, path, content, message) => (await load()).snapshot(server, path, content, message),
  };
}

export default definePlugin({
  name: "audit",
  apiVersion: 1,
  description: "Tamper-evident audit log of remote actions and git snapshots of remote file writes",
  enforce: "pre",
  hooks: {
    async doctor(_, ctx) {
      return (await import("./doctor.ts")).auditDoctor(ctx);
    },
    // Every file write through the gate is snapshotted here, before and after.
    async beforeFileWrite(write, ctx) {
      return ctx.use("audit").snapshot(write.action.server, write.path, write.content, write.message);
    },
    async afterFileWrite(write, ctx) {
      return ctx.use("audit").snapshot(write.action.server, write.path, write.content, write.message);
    },
  },
  setup(ctx) {
    ctx.provide("audit", lazyService(ctx));
    // Undo reads the log and the snapshot store; its writes go through the caller's gate.
    ctx.provide("audit.undo", {
      undo: async (target, options) => (await import("./undo.ts")).runUndo(ctx, target, options),
    });
  },
  commands: auditCommands,
});
