/**
 * The "audit" service: redacts, then appends durably; snapshots file states. Loaded lazily on
 * first use, so `opsterm --help` never pays for it.
 */
import type { PluginContext } from "../../src/kernel/index.ts";
import { IoError } from "../../src/kernel/index.ts";
import { createRedactor, type Redactor } from "../../src/lib/redact.ts";
import { appendRecords, auditFiles, readHead } from "./log.ts";
import { logId, openSyslogSender, readWitnessState, sendToWitness, witnessConfig, writeWitnessState, type SyslogSender, type WitnessConfig, type WitnessState } from "./witness.ts";
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

export function createAuditService(ctx: PluginContext): AuditService & { flushWitness(): Promise<void> } {
  const files = auditFiles(ctx.paths.dataDir);
  let cache: { key: string; redactor: Redactor } | undefined;
  let witness: Promise<WitnessConfig> | undefined;
  const loadWitness = () => (witness ??= ctx.config().then((c) => witnessConfig((k) => c.get(k))));
  let state: WitnessState | undefined | null = null;
  let warned = false;
  let sender: SyslogSender | undefined;
  let lastSent = 0;

  /**
   * After the records are durable, their new head goes to the witness. A witness that fails does
   * not fail the append (the record is on disk; refusing every action because a log host is down
   * would turn its outage into ours): it is warned about once per process, kept in witness.json for
   * doctor, and the unwitnessed records show in `audit verify`.
   */
  async function witnessHead(record: AuditRecord): Promise<void> {
    let w: WitnessConfig;
    try {
      w = await loadWitness();
    } catch (error) {
      return void ctx.io.warn(`audit witness not sent: the config cannot be read (${(error as Error).message})`);
    }
    if (w.kind === "none") return;
    const entry = { type: "head" as const, log: logId(files), seq: record.seq, hash: record.hash, ts: record.ts };
    try {
      if (w.kind === "syslog") {
        // Handed to the process's logger; its outcome is known at close (flushWitness).
        (sender ??= openSyslogSender(w, ctx.env)).send(entry);
        lastSent = record.seq;
        return;
      }
      await sendToWitness(w, entry, ctx.env);
      await outcome(w, record.seq);
    } catch (error) {
      await outcome(w, record.seq, (error as Error).message);
    }
  }

  /** Warns once per process about a failing witness; keeps witness.json in step (written on change only). */
  async function outcome(w: WitnessConfig, seq: number, failure?: string): Promise<void> {
    if (state === null) state = readWitnessState(files);
    let next: WitnessState;
    if (failure === undefined) {
      if (state?.status === "ok") return;
      next = { status: "ok", since: new Date().toISOString(), seq };
    } else {
      if (!warned) {
        warned = true;
        ctx.io.warn(`audit witness (${w.kind}) failed, record ${seq} is on disk but not witnessed: ${failure}; see "opsterm doctor"`);
      }
      if (state?.status === "failing" && state.message === failure) return;
      next = { status: "failing", since: new Date().toISOString(), seq, message: failure };
    }
    state = next;
    await writeWitnessState(files, next).catch(() => {});
  }

  // The witness runs beside the appends, not in their way (spawning logger costs tens of ms on a
  // loaded machine): one send in flight, and while it runs only the newest head waits (the chain
  // links the ones before it). Flushed at exit, so a finished command has sent its last head.
  // A syslog witness is a write to logger's stdin, cheap enough to take every head, in order.
  let inflight: Promise<void> | undefined;
  let newest: AuditRecord | undefined;
  function queueWitness(record: AuditRecord, w: WitnessConfig | undefined): void {
    if (w?.kind === "syslog" && !inflight) return void witnessHead(record).catch(() => {});
    newest = record;
    inflight ??= (async () => {
      while (newest) {
        const r = newest;
        newest = undefined;
        await witnessHead(r).catch(() => {});
      }
      inflight = undefined;
    })();
  }

  const append = groupCommit(async (inputs: AuditInput[]) => {
    // Read once per process; a config that fails is reported by witnessHead, not by the append.
    const w = await loadWitness().catch(() => undefined);
    const records = await appendRecords(files, inputs);
    // One head per write covers the batch: the chain links the records before it.
    queueWitness(records[records.length - 1], w);
    return records;
  });

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
    async flushWitness(): Promise<void> {
      while (inflight) await inflight;
      if (!sender) return;
      const s = sender;
      sender = undefined;
      const w = await witness!;
      try {
        await s.close();
        await outcome(w, lastSent);
      } catch (error) {
        await outcome(w, lastSent, (error as Error).message);
      }
    },
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
