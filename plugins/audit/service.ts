/**
 * The "audit" service: redacts, then appends durably; snapshots file states. Loaded lazily on
 * first use, so `opsterm --help` never pays for it.
 */
import type { PluginContext } from "../../src/kernel/index.ts";
import { IoError } from "../../src/kernel/index.ts";
import { createRedactor, type Redactor } from "../../src/lib/redact.ts";
import { appendRecord, auditFiles, readHead } from "./log.ts";
import { snapshot } from "./snapshot.ts";
import type { AuditInput, AuditRecord, AuditService, SnapshotRef } from "./types.ts";

/** A redactor that knows every value the `secretValues` hook returns right now. */
export async function currentRedactor(ctx: Pick<PluginContext, "hooks">, cache?: { key: string; redactor: Redactor }): Promise<{ key: string; redactor: Redactor }> {
  const secrets = (await ctx.hooks.call("secretValues")) ?? [];
  const key = JSON.stringify([...secrets].sort());
  if (cache && cache.key === key) return cache;
  return { key, redactor: createRedactor({ knownSecrets: secrets }) };
}

export function createAuditService(ctx: PluginContext): AuditService {
  const files = auditFiles(ctx.paths.dataDir);
  let cache: { key: string; redactor: Redactor } | undefined;

  async function redactor(): Promise<Redactor> {
    try {
      cache = await currentRedactor(ctx, cache);
      return cache.redactor;
    } catch (error) {
      // Without the secret list we cannot promise the record is clean: fail closed.
      throw new IoError("E_AUDIT_REDACT", `Audit record could not be redacted: secret values are unavailable (${(error as Error).message}); nothing was run`, {
        cause: error,
        hint: 'Run "opsterm doctor" to see which plugin fails',
      });
    }
  }

  return {
    async append(input: AuditInput): Promise<AuditRecord> {
      const r = await redactor();
      const clean: AuditInput = { ...input, args: r.redactDeep(input.args ?? {}), actor: r.redact(input.actor).text };
      return appendRecord(files, clean);
    },
    async snapshot(server: string, path: string, content: Uint8Array | null, message: string): Promise<SnapshotRef> {
      const r = await redactor();
      return snapshot(files, server, path, content, r.redact(message).text, {
        pathEnv: ctx.env.PATH,
        auditHead: () => {
          try {
            const h = readHead(files);
            return h && { seq: h.seq, hash: h.hash };
          } catch {
            return undefined;
          }
        },
      });
    },
  };
}
