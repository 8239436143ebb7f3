/**
 * The "audit" service: redacts, then appends durably; snapshots file states. Loaded lazily on
 * first use, so `opsterm --help` never pays for it.
 */
import type { PluginContext } from "../../src/kernel/index.ts";
import { IoError } from "../../src/kernel/index.ts";
import { createRedactor, type Redactor } from "../../src/lib/redact.ts";
import { appendRecords, auditFiles, readHead } from "./log.ts";
import { snapshot } from "./snapshot.ts";
import type { AuditInput, AuditRecord, AuditService, SnapshotRef } from "./types.ts";

/** A redactor that knows every value the `secretValues` hook returns right now. */
export async function currentRedactor(ctx: Pick<PluginContext, "hooks">, cache?: { key: string; redactor: Redactor }): Promise<{ key: string; redactor: Redactor }> {
  const secrets = (await ctx.hooks.call("secretValues")) ?? [];
  const key = JSON.stringify([...secrets].sort());
  if (cache && cache.key === key) return cache;
  return { key, redactor: createRedactor({ knownSecrets: secrets }) };
}

/**
 * Group commit: appends that arrive while a write is in flight go out together in the next one
 * (one lock, one write, one fsync), in arrival order. Each caller still gets its own record only
 * once it is durable; if the write fails, every append in it fails.
 */
export function groupCommit<T, R>(write: (batch: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  let pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;
  async function flush(): Promise<void> {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        const results = await write(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    flushing = false;
  }
  return (item) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!flushing) void flush();
    });
}

export function createAuditService(ctx: PluginContext): AuditService {
  const files = auditFiles(ctx.paths.dataDir);
  let cache: { key: string; redactor: Redactor } | undefined;
  const append = groupCommit((inputs: AuditInput[]) => appendRecords(files, inputs));

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
      return append(clean);
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
