/**
 * The approvals queue: approval-required calls from MCP clients wait here until a person answers
 * them in their own terminal (`opsterm approvals approve ID`). One 0600 JSON file in the data dir,
 * read-modify-written under a lock by the server and the `approvals` commands (several processes).
 *
 * An entry is bound to a hash of server + tool + arguments: an approval covers exactly that call,
 * once. A call that gave up waiting can be repeated with the same arguments and then finds its
 * approval. Entries expire after 10 minutes; a client's own answer (elicitation) never counts.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { DataError, UsageError, type ApprovalAnswer, type ApprovalRequest, type Approver } from "../../src/kernel/index.ts";
import { readJsonStore, updateJsonStore, type JsonStoreSpec } from "../../src/lib/json-store.ts";

/** An approval entry lives this long; after it, the call must be made (and approved) again. */
export const APPROVAL_TTL_MS = 10 * 60_000;
/** Expired and answered entries stay listed this long (so `approve ID` can say why it is too late). */
const KEEP_MS = 24 * 60 * 60_000;
/** What a person sees of a long display (a write's diff): the head. */
const DISPLAY_LIMIT = 8 * 1024;

export type ApprovalStatus = "pending" | "approved" | "denied" | "used" | "expired";

export interface ApprovalEntry {
  id: string;
  /** sha256 of server, tool and the canonical JSON of the arguments. */
  hash: string;
  server: string;
  tool: string;
  kind: string;
  /** The command, or the summary and diff of a write (redacted, capped). */
  display: string;
  rule: string;
  reason: string;
  actor: string;
  conversation?: string;
  created: string;
  expires: string;
  status: Exclude<ApprovalStatus, "expired">;
  decidedBy?: string;
  decidedAt?: string;
  /** Why it was denied (`approvals deny ID --reason …`). */
  note?: string;
}

interface Store {
  version: 1;
  approvals: ApprovalEntry[];
}

export function approvalsPath(dataDir: string): string {
  return join(dataDir, "approvals.json");
}

function spec(path: string): JsonStoreSpec<Store> {
  return {
    path,
    empty: () => ({ version: 1, approvals: [] }),
    check(data): asserts data is Store {
      const store = data as Partial<Store>;
      if (store?.version !== 1 || !Array.isArray(store.approvals)) throw new Error("unexpected shape");
    },
    code: "E_APPROVALS_STORE",
    hint: "Move the file away; pending MCP calls are then asked again",
  };
}

/** The status as of `now` (a pending or approved entry past its expiry is expired). */
export function statusOf(entry: ApprovalEntry, now = Date.now()): ApprovalStatus {
  if ((entry.status === "pending" || entry.status === "approved") && Date.parse(entry.expires) <= now) return "expired";
  return entry.status;
}

/** JSON with sorted keys, so the same arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function bindingHash(server: string, tool: string, args: unknown): string {
  return createHash("sha256").update(`${server}\0${tool}\0${canonicalJson(args)}`).digest("hex");
}

export function approveCommand(id: string): string {
  return `opsterm approvals approve ${id}`;
}

export class ApprovalQueue {
  readonly path: string;
  private readonly spec: JsonStoreSpec<Store>;
  private readonly now: () => number;

  constructor(dataDir: string, now: () => number = Date.now) {
    this.now = now;
    this.path = approvalsPath(dataDir);
    this.spec = spec(this.path);
  }

  /** Every entry still kept, newest last. */
  list(): (ApprovalEntry & { state: ApprovalStatus })[] {
    const now = this.now();
    return readJsonStore(this.spec).approvals.map((e) => ({ ...e, state: statusOf(e, now) }));
  }

  get(id: string): (ApprovalEntry & { state: ApprovalStatus }) | undefined {
    return this.list().find((e) => e.id === id);
  }

  private async update<T>(change: (store: Store, now: number) => T): Promise<T> {
    let out!: T;
    await updateJsonStore(this.spec, (store) => {
      const now = this.now();
      store.approvals = store.approvals.filter((e) => Date.parse(e.expires) + KEEP_MS > now);
      out = change(store, now);
    });
    return out;
  }

  /**
   * The entry for this call: an approved, unused one is taken (marked used) at once; a pending
   * one is reused; otherwise a new pending entry is added.
   */
  async enqueue(input: Omit<ApprovalEntry, "id" | "created" | "expires" | "status">): Promise<{ entry: ApprovalEntry; approved: boolean }> {
    return this.update((store, now) => {
      const live = store.approvals.filter((e) => e.hash === input.hash && (statusOf(e, now) === "approved" || statusOf(e, now) === "pending"));
      const approved = live.find((e) => e.status === "approved");
      if (approved) {
        approved.status = "used";
        return { entry: { ...approved }, approved: true };
      }
      const pending = live.find((e) => e.status === "pending");
      if (pending) return { entry: { ...pending }, approved: false };
      let id: string;
      do id = randomBytes(4).toString("hex");
      while (store.approvals.some((e) => e.id === id));
      const entry: ApprovalEntry = { ...input, display: capDisplay(input.display), id, created: new Date(now).toISOString(), expires: new Date(now + APPROVAL_TTL_MS).toISOString(), status: "pending" };
      store.approvals.push(entry);
      return { entry: { ...entry }, approved: false };
    });
  }

  /** Takes an approved entry (marks it used): true when it was approved and still valid. */
  async consume(id: string): Promise<boolean> {
    return this.update((store, now) => {
      const e = store.approvals.find((x) => x.id === id);
      if (!e || statusOf(e, now) !== "approved") return false;
      e.status = "used";
      return true;
    });
  }

  /** A person's answer. Throws for an unknown id, or one that is no longer pending. */
  async decide(id: string, decision: "approved" | "denied", by: string, note?: string): Promise<ApprovalEntry> {
    if (!/^[0-9a-f]{8}$/.test(id)) throw new UsageError(`"${id}" is not an approval id (8 hex digits, as "opsterm approvals list" shows)`, { code: "E_APPROVAL_UNKNOWN" });
    return this.update((store, now) => {
      const e = store.approvals.find((x) => x.id === id);
      if (!e) throw new UsageError(`No approval ${id} (it may have been answered or expired more than a day ago)`, { code: "E_APPROVAL_UNKNOWN" });
      const state = statusOf(e, now);
      if (state === "expired") throw new DataError("E_APPROVAL_EXPIRED", `Approval ${id} expired at ${e.expires}; nothing was run`, { hint: "The client must make the call again; approve the new id" });
      if (state !== "pending") throw new DataError("E_APPROVAL_DECIDED", `Approval ${id} was already ${state}${e.decidedBy ? ` by ${e.decidedBy}` : ""}`);
      e.status = decision;
      e.decidedBy = by;
      e.decidedAt = new Date(now).toISOString();
      if (note) e.note = note;
      return { ...e };
    });
  }
}

function capDisplay(text: string): string {
  return text.length <= DISPLAY_LIMIT ? text : `${text.slice(0, DISPLAY_LIMIT)}\n[… ${text.length - DISPLAY_LIMIT} more characters]`;
}

/** What became of one call's approval, for the tool result. */
export interface ApprovalOutcome {
  id: string;
  state: "approved" | "denied" | "timeout" | "cancelled";
  expires: string;
  by?: string;
  note?: string;
}

export interface QueueApproverOptions {
  queue: ApprovalQueue;
  tool: string;
  /** The call's arguments as the client sent them (the binding). */
  args: unknown;
  actor: string;
  conversation?: string;
  /** How long the call waits for an answer before it returns the id. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Masks secrets in what is written to the queue. */
  redact?: (text: string) => string;
  /** Called once when the entry exists, then about every second while waiting. */
  onWait?: (entry: ApprovalEntry, waitedMs: number) => void;
  /** How often the file is read while waiting. */
  pollMs?: number;
}

/**
 * The gate's Approver for one MCP tool call: the request goes into the queue and the call waits
 * for `opsterm approvals approve|deny ID` from another process, or gives up after `timeoutMs`.
 * `outcome` says which, for the result the client gets.
 */
export function queueApprover(options: QueueApproverOptions): Approver & { outcome?: ApprovalOutcome } {
  const self: Approver & { outcome?: ApprovalOutcome } = {
    async approve(request: ApprovalRequest): Promise<ApprovalAnswer> {
      const { queue } = options;
      const redact = options.redact ?? ((t: string) => t);
      const { entry, approved } = await queue.enqueue({
        hash: bindingHash(request.action.server, options.tool, options.args),
        server: request.action.server,
        tool: options.tool,
        kind: request.action.kind,
        display: redact(request.display),
        rule: request.verdict.rule,
        reason: redact(request.verdict.reason),
        actor: options.actor,
        conversation: options.conversation,
      });
      const done = (outcome: ApprovalOutcome, answer: ApprovalAnswer): ApprovalAnswer => {
        self.outcome = outcome;
        return answer;
      };
      if (approved) return done({ id: entry.id, state: "approved", expires: entry.expires, by: entry.decidedBy }, { approved: true, approver: `approvals:${entry.decidedBy ?? "?"}` });
      const started = Date.now();
      const deadline = started + options.timeoutMs;
      const poll = options.pollMs ?? 200;
      let nextTick = started;
      for (;;) {
        if (Date.now() >= nextTick) {
          options.onWait?.(entry, Date.now() - started);
          nextTick += 1000;
        }
        if (options.signal?.aborted) {
          return done({ id: entry.id, state: "cancelled", expires: entry.expires }, { approved: false, by: "cancelled", message: `The client cancelled the call while it waited for approval ${entry.id}` });
        }
        const now = queue.get(entry.id);
        const state = now?.state;
        if (state === "approved" && (await queue.consume(entry.id))) {
          return done({ id: entry.id, state: "approved", expires: entry.expires, by: now!.decidedBy }, { approved: true, approver: `approvals:${now!.decidedBy ?? "?"}` });
        }
        if (state === "denied") {
          const message = `Denied by ${now!.decidedBy ?? "a person"} (approval ${entry.id})${now!.note ? `: ${now!.note}` : ""}`;
          return done({ id: entry.id, state: "denied", expires: entry.expires, by: now!.decidedBy, note: now!.note }, { approved: false, by: "user", message });
        }
        if (state === undefined || state === "expired" || state === "used" || Date.now() >= deadline) {
          return done(
            { id: entry.id, state: "timeout", expires: entry.expires },
            { approved: false, by: "timeout", message: `Not approved within ${Math.round(options.timeoutMs / 1000)} s; approval ${entry.id} stays pending until ${entry.expires}: ${approveCommand(entry.id)}` },
          );
        }
        await sleep(Math.min(poll, Math.max(1, deadline - Date.now())), options.signal);
      }
    },
  };
  return self;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
