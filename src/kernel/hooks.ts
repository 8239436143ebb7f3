/**
 * The typed hook bus: one declared map of hook names to signatures (OpstermHooks) and one run
 * strategy per hook (HOOK_STRATEGY). Registration, calls, docs and tests all derive from these two.
 * Every handler receives `(payload, ctx)`: ctx is the context of the plugin that registered it, so
 * no plugin needs module-level state to reach its services, config or paths.
 */
import { OpstermError, PluginError } from "./errors.ts";
import type { PluginContext } from "./context.ts";
import {
  DECISION_RANK,
  type Action,
  type ActionResult,
  type ChatRequestEvent,
  type ChatResponseEvent,
  type CommandEvent,
  type DoctorFinding,
  type CommandOutcome,
  type FileWriteEvent,
  type HistoryEvent,
  type SnapshotRef,
  type Verdict,
} from "./types.ts";

type Awaitable<T> = T | Promise<T>;

export interface ReadyInfo {
  plugins: string[];
}

/** What an `expandAction` handler receives and may return changed: what only the executor sees. */
export interface ActionExpansion {
  action: Action;
  /** The command line the executor runs (starts as `action.command`). */
  command: string;
  /** Values substituted so far; the gate masks them in output shown to the user. */
  secrets: string[];
}

/** What a hook handler gets as its second argument: the registering plugin's own context. */
export type HookContext = PluginContext;

/** Every hook opsterm fires. */
export interface OpstermHooks {
  /** After every plugin's setup has run, before the command. */
  ready: (info: ReadyInfo, ctx: HookContext) => Awaitable<void>;
  /** Before a command's action runs. Throw to abort it. */
  beforeCommand: (event: CommandEvent, ctx: HookContext) => Awaitable<void>;
  /** After a command finished, with its exit code and error, in reverse plugin order. */
  afterCommand: (outcome: CommandOutcome, ctx: HookContext) => Awaitable<void>;
  /** Before the gate classifies an action: throw to refuse it (e.g. a secret reference that does not exist). */
  checkAction: (action: Action, ctx: HookContext) => Awaitable<void>;
  /** The gate's classification: return a Verdict. The most restrictive wins; no verdict at all means reject. */
  beforeAction: (action: Action, ctx: HookContext) => Awaitable<Verdict | undefined>;
  /** After approval and the audit intent, before the executor: may rewrite what only the executor sees (resolved secrets). */
  expandAction: (expansion: ActionExpansion, ctx: HookContext) => Awaitable<ActionExpansion | undefined>;
  /** An executor is about to write a file: snapshot its current state; the first answer is the ref. */
  beforeFileWrite: (write: FileWriteEvent, ctx: HookContext) => Awaitable<SnapshotRef | undefined>;
  /** An executor wrote a file: snapshot its new state; the first answer is the ref. */
  afterFileWrite: (write: FileWriteEvent, ctx: HookContext) => Awaitable<SnapshotRef | undefined>;
  /** After an action ran (or was refused), with its structured result. History subscribes. */
  afterAction: (result: ActionResult, ctx: HookContext) => Awaitable<void>;
  /** Before a chat request leaves the machine; return a rewritten request (redaction, context). */
  chatRequest: (request: ChatRequestEvent, ctx: HookContext) => Awaitable<ChatRequestEvent | undefined>;
  /** After a chat answer is complete. */
  chatResponse: (response: ChatResponseEvent, ctx: HookContext) => Awaitable<void>;
  /** Something worth remembering in history that is not an action (a question, an answer). */
  history: (event: HistoryEvent, ctx: HookContext) => Awaitable<void>;
  /** Resolve a named secret (vault); the first plugin that knows it answers. */
  resolveSecret: (name: string, ctx: HookContext) => Awaitable<string | undefined>;
  /** Secret values the redactor must never let through (API keys, vault values). */
  secretValues: (payload: void, ctx: HookContext) => Awaitable<string[] | undefined>;
  /** `opsterm doctor`: each plugin's own checks and the state files it uses. */
  doctor: (payload: void, ctx: HookContext) => Awaitable<DoctorFinding[] | undefined>;
  /** The CLI is about to exit. Runs in reverse plugin order. */
  close: (payload: void, ctx: HookContext) => Awaitable<void>;
}

export type HookName = keyof OpstermHooks;

/**
 * How the bus runs a hook's handlers:
 * - `serial`: one after another in plugin order, results ignored.
 * - `reverse`: serial, last plugin first (after-hooks and teardown-like hooks).
 * - `parallel`: all at once, results ignored.
 * - `first`: serial until a handler returns something other than undefined.
 * - `waterfall`: serial, each handler may replace the payload for the next.
 * - `veto`: serial, merges Verdicts to the most restrictive, stops at the first `reject`.
 * - `collect`: all at once, flattens the returned arrays.
 */
export type HookStrategy = "serial" | "reverse" | "parallel" | "first" | "waterfall" | "veto" | "collect";

export const HOOK_STRATEGY = {
  ready: "parallel",
  beforeCommand: "serial",
  afterCommand: "reverse",
  checkAction: "serial",
  beforeAction: "veto",
  expandAction: "waterfall",
  beforeFileWrite: "first",
  afterFileWrite: "first",
  afterAction: "reverse",
  chatRequest: "waterfall",
  chatResponse: "serial",
  history: "serial",
  resolveSecret: "first",
  secretValues: "collect",
  doctor: "collect",
  close: "reverse",
} as const satisfies { readonly [K in HookName]: HookStrategy };

type HookPayload<K extends HookName> = Parameters<OpstermHooks[K]>[0];
/** The arguments of `call()`: the payload, or nothing for hooks whose payload is void. */
export type HookArgs<K extends HookName> = HookPayload<K> extends void ? [] : [payload: HookPayload<K>];
type HookReturn<K extends HookName> = Awaited<ReturnType<OpstermHooks[K]>>;

/** What `call()` resolves to, per strategy. */
export type HookResult<K extends HookName> = (typeof HOOK_STRATEGY)[K] extends "waterfall"
  ? HookPayload<K>
  : (typeof HOOK_STRATEGY)[K] extends "collect"
    ? NonNullable<HookReturn<K>>
    : HookReturn<K>;

/** A handler may be a bare function or carry a per-hook order (second ordering level). */
export type HookEntry<K extends HookName> = OpstermHooks[K] | { order?: "pre" | "post"; handler: OpstermHooks[K] };
export type HookHandlers = { [K in HookName]?: HookEntry<K> };

interface Registered {
  plugin: string;
  rank: number;
  seq: number;
  fn: (payload: unknown, ctx: unknown) => unknown;
  ctx: unknown;
}

const ORDER_RANK = { pre: -1, post: 1 } as const;

export interface HookBus {
  /**
   * Register one plugin's handlers; `tier` is the plugin tier (pre = 0, normal = 1, post = 2);
   * `ctx` is what each of them receives as its second argument.
   */
  register(plugin: string, tier: number, handlers: HookHandlers, ctx?: HookContext): void;
  /** Run a hook with its declared strategy. Throws attributed errors (plugin + hook). */
  call<K extends HookName>(name: K, ...payload: HookArgs<K>): Promise<HookResult<K>>;
  /** Names of plugins with a handler for `name`, in call order. */
  handlersOf(name: HookName): string[];
}

/**
 * @example
 * const bus = createHookBus();
 * bus.register("policy", 0, { beforeAction: () => ({ decision: "reject", rule: "r", reason: "no" }) }, policyCtx);
 * await bus.call("beforeAction", action); // → { decision: "reject", …, by: "policy" }
 */
export function createHookBus(): HookBus {
  const table = new Map<HookName, Registered[]>();
  let seq = 0;

  function register(plugin: string, tier: number, handlers: HookHandlers, ctx?: HookContext): void {
    checkHookNames(plugin, Object.keys(handlers));
    for (const [name, entry] of Object.entries(handlers) as [HookName, HookEntry<HookName>][]) {
      const fn = typeof entry === "function" ? entry : entry?.handler;
      if (typeof fn !== "function") {
        throw new OpstermError("E_HOOK_INVALID", `Plugin "${plugin}" gives hook "${name}" no function`, { plugin, hook: name });
      }
      const order = typeof entry === "function" ? undefined : entry.order;
      const list = table.get(name) ?? [];
      list.push({ plugin, rank: tier * 3 + (order ? ORDER_RANK[order] : 0), seq: seq++, fn: fn as Registered["fn"], ctx });
      list.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
      table.set(name, list);
    }
  }

  async function invoke(name: HookName, h: Registered, payload: unknown): Promise<unknown> {
    try {
      return await h.fn(payload, h.ctx);
    } catch (error) {
      if (error instanceof OpstermError) {
        error.plugin ??= h.plugin;
        error.hook ??= name;
        throw error;
      }
      throw new PluginError(h.plugin, `hook "${name}"`, error);
    }
  }

  async function call<K extends HookName>(name: K, ...args: HookArgs<K>): Promise<HookResult<K>> {
    const handlers = table.get(name) ?? [];
    const payload: unknown = args[0];
    const run = STRATEGIES[HOOK_STRATEGY[name]];
    return (await run(handlers, payload, (h, p) => invoke(name, h, p))) as HookResult<K>;
  }

  return {
    register,
    call,
    handlersOf: (name) => (table.get(name) ?? []).map((h) => h.plugin),
  };
}

/** Throws E_HOOK_UNKNOWN for the first name that is not a declared hook. */
export function checkHookNames(plugin: string, names: string[]): void {
  const unknown = names.find((name) => !(name in HOOK_STRATEGY));
  if (unknown === undefined) return;
  throw new OpstermError("E_HOOK_UNKNOWN", `Plugin "${plugin}" registers unknown hook "${unknown}"`, {
    plugin,
    hook: unknown,
    hint: `Known hooks: ${Object.keys(HOOK_STRATEGY).join(", ")}`,
  });
}

type Invoke = (h: Registered, payload: unknown) => Promise<unknown>;
type Runner = (handlers: Registered[], payload: unknown, invoke: Invoke) => Promise<unknown>;

const STRATEGIES: Record<HookStrategy, Runner> = {
  async serial(handlers, payload, invoke) {
    for (const h of handlers) await invoke(h, payload);
  },
  async reverse(handlers, payload, invoke) {
    for (const h of [...handlers].reverse()) await invoke(h, payload);
  },
  async parallel(handlers, payload, invoke) {
    await Promise.all(handlers.map((h) => invoke(h, payload)));
  },
  async first(handlers, payload, invoke) {
    for (const h of handlers) {
      const result = await invoke(h, payload);
      if (result !== undefined) return result;
    }
    return undefined;
  },
  async waterfall(handlers, payload, invoke) {
    let current = payload;
    for (const h of handlers) {
      const next = await invoke(h, current);
      if (next !== undefined) current = next;
    }
    return current;
  },
  async veto(handlers, payload, invoke) {
    let strongest: Verdict | undefined;
    for (const h of handlers) {
      const verdict = (await invoke(h, payload)) as Verdict | undefined;
      if (verdict === undefined) continue;
      if (!isVerdict(verdict)) {
        // A malformed answer from the gate must never read as permission.
        return { decision: "reject", rule: "kernel.malformed-verdict", reason: `plugin "${h.plugin}" returned an invalid verdict`, by: h.plugin };
      }
      const stamped = { ...verdict, by: h.plugin };
      if (!strongest || DECISION_RANK[stamped.decision] > DECISION_RANK[strongest.decision]) strongest = stamped;
      if (stamped.decision === "reject") break;
    }
    return strongest;
  },
  async collect(handlers, payload, invoke) {
    const results = await Promise.all(handlers.map((h) => invoke(h, payload)));
    return results.flatMap((r) => (Array.isArray(r) ? r : []));
  },
};

function isVerdict(value: unknown): value is Verdict {
  const v = value as Verdict;
  return typeof v === "object" && v !== null && v.decision in DECISION_RANK && typeof v.rule === "string" && typeof v.reason === "string";
}
