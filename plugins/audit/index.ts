/**
 * The audit plugin: provides the "audit" service (append-only, hash-chained, fail-closed log and
 * the git snapshot store) and the `audit log|verify|show` commands. Setup does no I/O; the log is
 * opened on the first append.
 */
import { definePlugin, IoError, type PluginContext } from "../../src/kernel/index.ts";
import { auditCommands } from "./commands.ts";
import type { AuditService } from "./types.ts";
import type {} from "../../src/contracts/undo.ts";

type LoadedService = AuditService & { flushWitness?: () => Promise<void> };

function lazyService(ctx: PluginContext): AuditService & { flushWitness: () => Promise<void> } {
  let service: Promise<LoadedService> | undefined;
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
    // Heads still on their way to the witness are sent before the process exits (teardown).
    flushWitness: async () => {
      const s = await service?.catch(() => undefined);
      await s?.flushWitness?.();
    },
  };
}

export default definePlugin({
  name: "audit",
  apiVersion: 1,
  description: "Tamper-evident audit log of remote actions and git snapshots of remote file writes",
  enforce: "pre",
  config: {
    audit: {
      type: "object",
      description: "Audit log settings",
      properties: {
        // Global-only: a project folder must not switch the witness off, point it elsewhere or run a command.
        witness: {
          type: "oneOf",
          globalOnly: true,
          description:
            'Where each new audit head is witnessed: "syslog" (default when /dev/log exists), "none", or { command: [argv…], verifyCommand: [argv…] } (global config only)',
          of: [
            { type: "string", enum: ["syslog", "none"] },
            {
              type: "object",
              required: ["command"],
              properties: {
                command: { type: "array", items: { type: "string" }, description: "Gets each head as a JSON line on stdin (no shell)" },
                verifyCommand: { type: "array", items: { type: "string" }, description: "Prints the witnessed heads, one per line, for audit verify" },
                timeoutMs: { type: "number", min: 100, integer: true, description: "How long the command may take (default 10000)" },
              },
            },
          ],
        },
        syslog: {
          type: "object",
          globalOnly: true,
          description: "The syslog witness (global config only)",
          properties: {
            socket: { type: "string", description: "The syslog socket heads are sent to (default /dev/log)" },
            read: { type: "string", description: 'Where audit verify reads them back: "journal" or a file (default: the journal if journald runs, else /var/log/auth.log, secure, messages, syslog)' },
          },
        },
      },
    },
  },
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
    const audit = lazyService(ctx);
    ctx.provide("audit", audit);
    // Undo reads the log and the snapshot store; its writes go through the caller's gate.
    ctx.provide("audit.undo", {
      undo: async (target, options) => (await import("./undo.ts")).runUndo(ctx, target, options),
    });
    return () => audit.flushWitness();
  },
  commands: auditCommands,
});
