/**
 * The agent loop: the model answers or calls tools; each call goes through the remote tools
 * module (and so through the gate: policy, approval, audit, snapshots); results go back in call
 * order; until the model answers without calling a tool, or a limit stops it.
 *
 * Limits: steps (model turns) per task, a per-call timeout, a time and a token budget, and the
 * doom-loop stop (the same call three times in a row). Read-only calls run in parallel (at most
 * four at once); a call that needs approval runs alone, in its place.
 */
import type { ChatMessage, ChatToolCall, CommandContext } from "../../src/kernel/index.ts";
import { InterruptedError } from "../../src/kernel/index.ts";
import type { ChatService, ChatToolSpec, ResolvedProviderInfo } from "../../src/contracts/chat.ts";
import type { ResolvedServer } from "../../src/contracts/inventory.ts";
import { callTool, checkArguments, ToolArgumentError, toolDefinitions, type ToolContext, type ToolEnvelope, type ToolName } from "../../src/tools/remote-tools.ts";
import { callKey, createSessionApprovals, stableJson, type SessionApprovals } from "./approval.ts";
import { describeFacts, hostFacts, type HostFacts } from "./facts.ts";

export const PARALLEL = 4;
export const DOOM_REPEATS = 3;

export interface AgentLimits {
  maxSteps: number;
  callTimeoutMs: number;
  timeBudgetMs: number;
  tokenBudget: number;
}

export interface CallRecord {
  id: string;
  name: string;
  server?: string;
  args: unknown;
  status: ToolEnvelope["status"];
  exitCode?: number | null;
  auditSeq?: number;
  error?: { code: string; message: string };
  durationMs: number;
  /** A write's snapshots (for undo). */
  written?: ToolEnvelope["written"];
}

export interface Stop {
  code: "E_AGENT_MAX_STEPS" | "E_AGENT_DOOM_LOOP" | "E_AGENT_TIME_BUDGET" | "E_AGENT_TOKEN_BUDGET" | "E_AGENT_ABORTED" | "E_AGENT_TRUNCATED";
  message: string;
}

export interface TurnResult {
  answer: string;
  /** Tokens this turn used (every model request in it). */
  usage: { promptTokens: number; completionTokens: number };
  steps: number;
  calls: CallRecord[];
  stop?: Stop;
  /** Per model round: ms in the provider's HTTP request, ms in tool calls (wall), ms of the whole round. */
  rounds: { modelMs: number; toolsMs: number; roundMs: number }[];
}

export interface AgentSessionOptions {
  /** The user's own instructions (`ai.system_prompt` in config.yaml), after opsterm's. */
  instructions?: string;
  ctx: CommandContext;
  chat: ChatService;
  provider: ResolvedProviderInfo;
  /** What the person asked for (--provider, --model): each request resolves it the same way. */
  providerRequest?: { provider?: string; model?: string };
  conversation: string;
  /** Messages so far (no system prompt): a continued conversation. */
  history?: ChatMessage[];
  /** `connect` / `--on` one server: the tools take no server argument. */
  boundServer?: string;
  /** `--on` several servers: calls to any other are refused before the gate. */
  allowed?: ResolvedServer[];
  yes: boolean;
  limits: AgentLimits;
  /** Each piece of answer text as it streams. */
  onText?: (text: string) => void;
  /** A line about a tool call (started, finished). */
  onCall?: (event: { phase: "start" | "end"; call: CallRecord; summary: string }) => void;
  allowSecrets?: boolean;
}

export interface AgentSession {
  readonly conversation: string;
  readonly messages: ChatMessage[];
  readonly usage: { promptTokens: number; completionTokens: number };
  readonly approvals: SessionApprovals;
  readonly facts: Map<string, HostFacts>;
  readonly calls: CallRecord[];
  /** One task or chat turn: runs until the model answers without tool calls or a limit stops it. */
  turn(userText: string): Promise<TurnResult>;
  /** The system prompt as it is now (facts included). */
  system(): string;
  /** Gathers a host's facts (cached for a day) so the model knows the target. */
  learn(server: string): Promise<HostFacts | undefined>;
}

export function createAgentSession(o: AgentSessionOptions): AgentSession {
  const { ctx } = o;
  const messages: ChatMessage[] = [...(o.history ?? [])];
  const usage = { promptTokens: 0, completionTokens: 0 };
  const approvals = createSessionApprovals(ctx);
  const facts = new Map<string, HostFacts>();
  const allCalls: CallRecord[] = [];
  const actor = `ai:${o.provider.name}/${o.provider.model}`;
  const defs = toolDefinitions({ boundServer: o.boundServer });
  const tools: ChatToolSpec[] = defs.map((d) => ({ type: "function", function: { name: d.name, description: d.description, parameters: d.inputSchema } }));
  const readOnly = new Set(defs.filter((d) => d.annotations.readOnlyHint).map((d) => d.name as string));
  const started = Date.now();
  let lastKey: string | undefined;
  let repeats = 0;
  let redact: ((text: string) => string) | undefined;
  let inventory: ResolvedServer[] | undefined;
  const allowedIds = o.allowed ? new Set(o.allowed.map((s) => s.id)) : undefined;

  async function servers(): Promise<ResolvedServer[]> {
    inventory ??= await ctx.use("inventory").list();
    if (o.boundServer) return inventory.filter((s) => s.id === o.boundServer);
    return allowedIds ? inventory.filter((s) => allowedIds.has(s.id)) : inventory;
  }

  async function redactor(): Promise<(text: string) => string> {
    if (redact) return redact;
    if (o.allowSecrets) return (redact = (t) => t);
    const { createRedactor } = await import("../../src/lib/redact.ts");
    const known = (await ctx.hooks.call("secretValues").catch(() => undefined)) ?? [];
    const r = createRedactor({ knownSecrets: known });
    return (redact = (t) => r.redact(t).text);
  }

  const learning = new Map<string, Promise<HostFacts | undefined>>();
  const announced = new Set<string>();
  function learn(server: string): Promise<HostFacts | undefined> {
    let p = learning.get(server);
    if (!p) learning.set(server, (p = gather(server)));
    return p;
  }

  async function gather(server: string): Promise<HostFacts | undefined> {
    const entry = (await servers()).find((s) => s.id === server);
    if (!entry) return undefined;
    try {
      const f = await hostFacts(server, { actions: ctx.actions, dataDir: ctx.paths.dataDir, address: `${entry.user}@${entry.host}:${entry.port}`, conversation: o.conversation, signal: ctx.signal });
      facts.set(server, f);
      return f;
    } catch (error) {
      if (ctx.signal.aborted) throw new InterruptedError();
      ctx.io.debug(`host facts of ${server}: ${(error as Error).message}`);
      return undefined;
    }
  }

  function system(): string {
    const lines = [
      "You are opsterm's operations agent. You work on remote servers only through the tools you are given; every call passes opsterm's policy: read-only inspection runs at once, changes need a person's approval, destructive commands are refused.",
      "How to work:",
      "- Inspect before you change anything. Prefer remote_read_file, remote_list_dir, remote_stat and remote_find over shell commands for files.",
      "- Change files with remote_patch_file (a unified diff against the file as you just read it) or remote_write_file; never with sed -i, tee or echo redirections.",
      "- After a change, verify it (read the file back, check the service or the config syntax).",
      "- A denied or refused call is not an error to work around: do not retry it in another form; explain what you wanted and why, and continue or stop.",
      "- Never ask for or print passwords, keys or tokens. Output you see may be cut in the middle ([… N bytes omitted …]) and secrets in it are replaced by [REDACTED…] markers.",
      "- When the task is done (or cannot be done), answer in a few sentences: what you found, what you changed, what the person should check. Do not call tools after that.",
    ];
    if (o.boundServer) lines.push(`You are connected to the server "${o.boundServer}" only; the tools act on it and on nothing else.`);
    else if (inventory) {
      const list = inventory.filter((s) => !allowedIds || allowedIds.has(s.id));
      lines.push(`Servers you may use (the server argument): ${list.map((s) => `${s.id}${s.tags.length ? ` [${s.tags.join(",")}]` : ""}${s.tier ? ` (${s.tier})` : ""}`).join(", ") || "none"}.`);
    }
    if (o.instructions) lines.push("The person's own instructions (from their config):", o.instructions);
    if (facts.size) lines.push("Host facts (gathered read-only; fit your commands to them):", ...[...facts].map(([id, f]) => `- ${describeFacts(id, f)}`));
    return lines.join("\n");
  }

  function toolCtx(tool: string, server: string | undefined, args: Record<string, unknown>, redactFn: (t: string) => string): ToolContext {
    const timed = readOnly.has(tool) && tool !== "list_servers";
    return {
      actions: ctx.actions,
      listServers: servers,
      origin: "ai",
      actor,
      conversation: o.conversation,
      boundServer: o.boundServer,
      approver: approvals.forCall(tool, server, args),
      preApproved: o.yes ? "flag:--yes" : undefined,
      // Reads get the per-call deadline as a signal; exec has its own (the command's timeout);
      // a write's approval prompt must not run against a clock.
      signal: timed ? AbortSignal.any([ctx.signal, AbortSignal.timeout(o.limits.callTimeoutMs)]) : ctx.signal,
      defaultTimeoutMs: o.limits.callTimeoutMs,
      redact: redactFn,
    };
  }

  interface Planned {
    call: ChatToolCall;
    record: CallRecord;
    args?: Record<string, unknown>;
    /** Ready answer (bad arguments, a server out of reach, the doom-loop stop): nothing runs. */
    envelope?: ToolEnvelope;
    parallel: boolean;
  }

  async function plan(call: ChatToolCall): Promise<Planned> {
    const name = call.function.name;
    const record: CallRecord = { id: call.id, name, args: undefined, status: "error", durationMs: 0 };
    const fail = (code: string, message: string): Planned => {
      record.status = "error";
      record.error = { code, message };
      return { call, record, envelope: { status: "error", tool: name as ToolName, error: { code, message } }, parallel: true };
    };
    let args: Record<string, unknown>;
    try {
      const raw = call.function.arguments.trim() === "" ? {} : JSON.parse(call.function.arguments);
      args = checkArguments(name, raw, { boundServer: o.boundServer });
    } catch (error) {
      record.args = call.function.arguments;
      if (error instanceof ToolArgumentError) return fail("E_TOOL_ARGUMENTS", error.message);
      return fail("E_TOOL_ARGUMENTS", `the arguments of ${name || "the call"} are not valid JSON: ${(error as Error).message}`);
    }
    record.args = args;
    const server = o.boundServer ?? (args.server as string | undefined);
    record.server = server;
    // The doom-loop stop: the same call (tool + arguments) three times in a row is not run again.
    const key = callKey(name, server, args) + stableJson(name);
    repeats = key === lastKey ? repeats + 1 : 1;
    lastKey = key;
    if (repeats >= DOOM_REPEATS) return fail("E_AGENT_DOOM_LOOP", `the same ${name} call came ${repeats} times in a row; it was not run again and the agent stops`);
    if (server !== undefined && name !== "list_servers" && allowedIds && !allowedIds.has(server)) {
      return fail("E_AGENT_SERVER", `"${server}" is not one of the servers this task may use (${[...allowedIds].join(", ")})`);
    }
    let parallel = readOnly.has(name);
    if (name === "remote_exec" && server) {
      // An exec the policy lets run unasked is as safe to run alongside reads as a read.
      const preview = await ctx.actions.preview({ kind: "exec", target: server, command: String(args.command), cwd: args.cwd as string | undefined, origin: "ai", actor });
      parallel = preview.verdict.decision === "auto-allow";
    }
    return { call, record, args, parallel };
  }

  async function execute(p: Planned, redactFn: (t: string) => string): Promise<ToolEnvelope> {
    if (p.envelope) return p.envelope;
    const name = p.call.function.name;
    const t0 = Date.now();
    const server = p.record.server;
    o.onCall?.({ phase: "start", call: p.record, summary: summarize(name, p.args!) });
    let firstVisit: HostFacts | undefined;
    if (server && name !== "list_servers" && !announced.has(server)) {
      announced.add(server);
      // A bound server's facts are in the system prompt already.
      const known = facts.has(server);
      const f = await learn(server);
      if (!known && server !== o.boundServer) firstVisit = f;
    }
    let envelope: ToolEnvelope;
    try {
      envelope = await callTool(name, p.args, toolCtx(name, server, p.args!, redactFn));
    } catch (error) {
      envelope = { status: "error", tool: name as ToolName, error: { code: "E_TOOL_ARGUMENTS", message: (error as Error).message } };
    }
    const r = p.record;
    r.status = envelope.status;
    r.exitCode = envelope.exitCode;
    r.auditSeq = envelope.auditSeq;
    r.error = envelope.error && { code: envelope.error.code, message: envelope.error.message };
    r.written = envelope.written;
    r.durationMs = Date.now() - t0;
    o.onCall?.({ phase: "end", call: r, summary: summarize(name, p.args!) });
    // The first call on a host carries its facts, so the model's next commands fit it.
    return firstVisit ? { ...envelope, hostFacts: describeFacts(server!, firstVisit) } : envelope;
  }

  async function runCalls(calls: ChatToolCall[]): Promise<{ envelopes: ToolEnvelope[]; records: CallRecord[] }> {
    const planned: Planned[] = [];
    for (const call of calls) planned.push(await plan(call));
    const redactFn = await redactor();
    const envelopes: ToolEnvelope[] = new Array(planned.length);
    let i = 0;
    while (i < planned.length) {
      if (ctx.signal.aborted) throw new InterruptedError();
      if (approvals.aborted) break;
      if (!planned[i].parallel) {
        envelopes[i] = await execute(planned[i], redactFn);
        i++;
        continue;
      }
      // A run of calls that need no approval: at most PARALLEL at once, results kept in call order.
      let j = i;
      while (j < planned.length && planned[j].parallel) j++;
      let next = i;
      const worker = async () => {
        while (next < j) {
          const k = next++;
          envelopes[k] = await execute(planned[k], redactFn);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, j - i) }, worker));
      i = j;
    }
    for (let k = 0; k < planned.length; k++) {
      envelopes[k] ??= { status: "denied", tool: planned[k].call.function.name as ToolName, error: { code: "E_AGENT_ABORTED", message: "not run: the agent was aborted at the prompt" } };
      if (!planned[k].record.error && envelopes[k].error) planned[k].record.error = envelopes[k].error;
      if (planned[k].record.status === "error" && envelopes[k].status !== "error") planned[k].record.status = envelopes[k].status;
    }
    return { envelopes, records: planned.map((p) => p.record) };
  }

  async function turn(userText: string): Promise<TurnResult> {
    const before = { ...usage };
    const result = await step(userText);
    result.usage = { promptTokens: usage.promptTokens - before.promptTokens, completionTokens: usage.completionTokens - before.completionTokens };
    return result;
  }

  async function step(userText: string): Promise<TurnResult> {
    if (!inventory) await servers();
    messages.push({ role: "user", content: userText });
    const result: TurnResult = { answer: "", usage: { promptTokens: 0, completionTokens: 0 }, steps: 0, calls: [], rounds: [] };
    const stop = (code: Stop["code"], message: string) => ((result.stop = { code, message }), result);
    for (;;) {
      if (ctx.signal.aborted) throw new InterruptedError();
      if (result.steps >= o.limits.maxSteps) return stop("E_AGENT_MAX_STEPS", `stopped after ${result.steps} model turns (--max-steps ${o.limits.maxSteps}) before the task was done`);
      if (Date.now() - started > o.limits.timeBudgetMs) return stop("E_AGENT_TIME_BUDGET", `stopped: the time budget of ${Math.round(o.limits.timeBudgetMs / 1000)} s is used up`);
      if (usage.promptTokens + usage.completionTokens > o.limits.tokenBudget) return stop("E_AGENT_TOKEN_BUDGET", `stopped: ${usage.promptTokens + usage.completionTokens} tokens used, over the budget of ${o.limits.tokenBudget}`);
      result.steps++;
      const roundStart = Date.now();
      const sys = system();
      const answer = await o.chat.ask([{ role: "system", content: sys }, ...fitContext(messages, o.provider.contextWindow - (o.provider.maxTokens ?? Math.min(4096, Math.floor(o.provider.contextWindow / 4))) - estimate(sys))], {
        provider: o.providerRequest?.provider,
        model: o.providerRequest?.model,
        tools,
        signal: ctx.signal,
        allowSecrets: o.allowSecrets,
        quiet: true,
        onToken: o.onText,
      });
      // The provider's time (the HTTP request and the streamed answer); redaction and hooks count as ours.
      const modelMs = answer.durationMs;
      usage.promptTokens += answer.usage?.promptTokens ?? 0;
      usage.completionTokens += answer.usage?.completionTokens ?? 0;
      const toolCalls = answer.toolCalls ?? [];
      messages.push({ role: "assistant", content: answer.content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
      if (answer.truncated) {
        result.answer = answer.content;
        // Nothing from a cut-off answer runs; the transcript must still pair every call with a result.
        for (const c of toolCalls) messages.push({ role: "tool", tool_call_id: c.id, content: JSON.stringify({ status: "error", error: { code: "E_AGENT_TRUNCATED", message: "not run: the answer was cut off" } }) });
        result.rounds.push({ modelMs, toolsMs: 0, roundMs: Date.now() - roundStart });
        return stop("E_AGENT_TRUNCATED", "the model's answer was cut off at its length limit (finish_reason: length); nothing from it was run. Raise maxTokens");
      }
      if (toolCalls.length === 0) {
        result.answer = answer.content;
        result.rounds.push({ modelMs, toolsMs: 0, roundMs: Date.now() - roundStart });
        return result;
      }
      const toolsStart = Date.now();
      const { envelopes, records } = await runCalls(toolCalls);
      const toolsMs = Date.now() - toolsStart;
      toolCalls.forEach((c, k) => messages.push({ role: "tool", tool_call_id: c.id, content: JSON.stringify(envelopes[k]) }));
      result.calls.push(...records);
      allCalls.push(...records);
      result.rounds.push({ modelMs, toolsMs, roundMs: Date.now() - roundStart });
      if (approvals.interrupted) throw new InterruptedError();
      if (approvals.aborted) return stop("E_AGENT_ABORTED", "aborted at the approval prompt");
      const doom = records.find((r) => r.error?.code === "E_AGENT_DOOM_LOOP");
      if (doom) return stop("E_AGENT_DOOM_LOOP", `stopped: the model made the same ${doom.name} call ${DOOM_REPEATS} times in a row`);
    }
  }

  return {
    conversation: o.conversation,
    messages,
    usage,
    approvals,
    facts,
    calls: allCalls,
    turn,
    system,
    learn,
  };
}

const estimate = (text: string): number => Math.ceil(text.length / 4);
const cost = (m: ChatMessage): number => estimate(m.content) + (m.tool_calls ? estimate(JSON.stringify(m.tool_calls)) : 0) + 4;

/**
 * The transcript that fits the model's context: the oldest whole exchanges (a user message and
 * everything after it up to the next one) are left out first, so a tool call is never sent
 * without its result; the current exchange is always sent.
 */
export function fitContext(messages: ChatMessage[], budget: number): ChatMessage[] {
  let total = messages.reduce((n, m) => n + cost(m), 0);
  let start = 0;
  const lastUser = messages.map((m) => m.role).lastIndexOf("user");
  while (total > budget && start < lastUser) {
    let next = start + 1;
    while (next < lastUser && messages[next].role !== "user") next++;
    for (let k = start; k < next; k++) total -= cost(messages[k]);
    start = next;
  }
  return start === 0 ? messages : messages.slice(start);
}

/** One line about a call, for the person watching. */
export function summarize(name: string, args: Record<string, unknown>): string {
  const on = args.server ? `${String(args.server)}: ` : "";
  switch (name) {
    case "remote_exec":
      return `${on}$ ${String(args.command)}`;
    case "list_servers":
      return "list servers";
    case "remote_find":
      return `${on}find ${String(args.path)} ${String(args.pattern)}`;
    default:
      return `${on}${name.replace(/^remote_/, "").replace(/_/g, " ")} ${String(args.path ?? "")}`.trim();
  }
}
