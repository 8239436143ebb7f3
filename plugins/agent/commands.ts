/**
 * `opsterm agent "task"` (one task, then exit), `opsterm chat` (a multi-turn session in the
 * terminal) and `opsterm connect SERVER` (the same, bound to one server).
 */
import type { CommandContext, CommandSpec } from "../../src/kernel/index.ts";
import { defineCommand, EXIT, InterruptedError, OpstermError, UsageError } from "../../src/kernel/index.ts";
import type { ChatService } from "../../src/contracts/chat.ts";
import type { ResolvedServer } from "../../src/contracts/inventory.ts";
import { parseDuration, parseLimit, parseSeconds } from "../../src/lib/args.ts";
import type { AgentLimits, AgentSession, CallRecord, TurnResult } from "./session.ts";

type Obj = Record<string, unknown>;

export const DEFAULTS = { maxSteps: 25, callTimeoutMs: 60_000, timeBudgetMs: 30 * 60_000, tokenBudget: 500_000 };

const COMMON_OPTIONS = [
  { flags: "--yes", description: "Approve every call that needs approval (rejected ones never run)" },
  { flags: "--max-steps <n>", description: "Model turns per task at most (default 25)" },
  { flags: "--timeout <seconds>", description: "Deadline per tool call (default 60)" },
  { flags: "--time-budget <duration>", description: "Stop after this long, e.g. 10m (default 30m)" },
  { flags: "--token-budget <n>", description: "Stop after this many tokens (default 500000)" },
  { flags: "--model <model>", description: "Model to use" },
  { flags: "--provider <name>", description: "Provider to use (a name under providers:, ai, or a preset)" },
  { flags: "--allow-secrets", description: "Do not redact secrets in what is sent to the model" },
] as const;

async function limitsOf(args: Obj, ctx: CommandContext): Promise<AgentLimits> {
  const conf = (((await ctx.config()).values as Obj).agent ?? {}) as Obj;
  const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);
  return {
    maxSteps: args.maxSteps !== undefined ? parseLimit(args.maxSteps, "--max-steps") : (num(conf.maxSteps) ?? DEFAULTS.maxSteps),
    callTimeoutMs: args.timeout !== undefined ? parseSeconds(args.timeout, "--timeout") : num(conf.callTimeout) !== undefined ? num(conf.callTimeout)! * 1000 : DEFAULTS.callTimeoutMs,
    timeBudgetMs:
      args.timeBudget !== undefined
        ? parseDuration(String(args.timeBudget), { flag: "--time-budget", defaultUnit: "s" })
        : typeof conf.timeBudget === "string"
          ? parseDuration(conf.timeBudget, { flag: "agent.timeBudget", defaultUnit: "s" })
          : DEFAULTS.timeBudgetMs,
    tokenBudget: args.tokenBudget !== undefined ? parseLimit(args.tokenBudget, "--token-budget") : (num(conf.tokenBudget) ?? DEFAULTS.tokenBudget),
  };
}

interface Setup {
  session: AgentSession;
  chat: ChatService;
  provider: Awaited<ReturnType<ChatService["provider"]>>;
  mode: "agent" | "chat" | "connect";
  bound?: string;
  createdAt: string;
  save(): Promise<string | undefined>;
  /** Ends a streamed answer's last line (once). */
  endLine(): void;
  /** Write seqs undone with /undo in this session. */
  undone: Set<number>;
}

async function setup(args: Obj, ctx: CommandContext, mode: Setup["mode"], scope: { bound?: string; allowed?: ResolvedServer[] }, resume?: boolean): Promise<Setup> {
  const { createAgentSession } = await import("./session.ts");
  const store = await import("./store.ts");
  const chat = ctx.use("chat") as ChatService;
  const provider = await chat.provider({ provider: args.provider as string | undefined, model: args.model as string | undefined });
  const limits = await limitsOf(args, ctx);
  let history: Awaited<ReturnType<typeof store.loadLastConversation>>;
  if (resume) {
    history = store.loadLastConversation(ctx.paths.dataDir);
    if (!history) throw new UsageError("There is no agent conversation to continue", { code: "E_AGENT_NO_CONVERSATION", hint: 'Start one with "opsterm chat" or "opsterm agent"' });
    if (history.server && !scope.bound) scope = { bound: history.server };
  }
  const conversation = history?.id ?? store.newConversationId();
  const createdAt = history?.createdAt ?? new Date().toISOString();
  const s = ctx.io.errStyle;
  const streaming = !ctx.json;
  let midLine = false;
  const session = createAgentSession({
    ctx,
    chat,
    provider,
    providerRequest: { provider: args.provider as string | undefined, model: args.model as string | undefined },
    conversation,
    history: history?.messages,
    boundServer: scope.bound,
    allowed: scope.allowed,
    instructions: userInstructions((await ctx.config()).values),
    yes: Boolean(args.yes),
    limits,
    allowSecrets: Boolean(args.allowSecrets),
    onText: streaming
      ? (t) => {
          ctx.io.stdout.write(t);
          midLine = !t.endsWith("\n");
        }
      : undefined,
    onCall: ctx.json
      ? undefined
      : ({ phase, call, summary }) => {
          if (midLine) {
            ctx.io.stdout.write("\n");
            midLine = false;
          }
          if (phase === "start") ctx.io.err(s.dim(`→ ${summary}`));
          else ctx.io.err(`  ${callOutcome(call, s)} ${s.dim(`← ${summary.length > 60 ? `${summary.slice(0, 59)}…` : summary}`)}`);
        },
  });
  if (history) {
    session.usage.promptTokens = history.usage?.promptTokens ?? 0;
    session.usage.completionTokens = history.usage?.completionTokens ?? 0;
  }
  const secrets = async () => (await ctx.hooks.call("secretValues").catch(() => undefined)) ?? [];
  return {
    session,
    chat,
    provider,
    mode,
    bound: scope.bound,
    createdAt,
    undone: new Set<number>(),
    endLine() {
      if (midLine) ctx.io.stdout.write("\n");
      midLine = false;
    },
    async save() {
      try {
        return await store.saveConversation(
          ctx.paths.dataDir,
          { id: conversation, mode, provider: provider.name, model: provider.model, ...(scope.bound ? { server: scope.bound } : {}), createdAt, updatedAt: new Date().toISOString(), usage: { ...session.usage }, messages: session.messages },
          await secrets(),
        );
      } catch (error) {
        ctx.io.warn(`the conversation was not saved: ${(error as Error).message}`);
        return undefined;
      }
    },
  };
}

function callOutcome(call: CallRecord, s: CommandContext["io"]["errStyle"]): string {
  const seq = call.auditSeq !== undefined ? s.dim(` · audit #${call.auditSeq}`) : "";
  const ms = s.dim(` · ${call.durationMs} ms`);
  switch (call.status) {
    case "ok":
      return `${s.green("ok")}${call.exitCode !== undefined && call.exitCode !== null ? ` exit ${call.exitCode}` : ""}${ms}${seq}`;
    case "failed":
      return `${s.yellow("failed")}${call.exitCode !== undefined && call.exitCode !== null ? ` exit ${call.exitCode}` : ""}${call.error ? `: ${call.error.message}` : ""}${ms}${seq}`;
    default:
      return `${s.red(call.status)}: ${call.error?.message ?? ""}${s.dim(call.error ? ` (${call.error.code})` : "")}`;
  }
}

async function recordHistory(ctx: CommandContext, setup: Setup, question: string, turn: TurnResult | undefined, durationMs: number, extra: Obj = {}): Promise<void> {
  try {
    await ctx.hooks.call("history", {
      mode: setup.mode,
      conversation: setup.session.conversation,
      question,
      answer: turn?.answer ?? "",
      provider: setup.provider.name,
      model: setup.provider.model,
      // This task's or turn's tokens (a chat's turns add up in history).
      promptTokens: turn?.usage.promptTokens,
      completionTokens: turn?.usage.completionTokens,
      durationMs,
      server: setup.bound,
      runId: ctx.runId,
      steps: turn?.steps,
      toolCalls: turn?.calls.length,
      ...(turn?.stop ? { stop: turn.stop.code } : {}),
      ...extra,
    });
  } catch (error) {
    ctx.io.warn(`history was not recorded: ${(error as Error).message}`);
  }
}

function usageLine(setup: Setup, turn: TurnResult | undefined, ms: number): string {
  const u = setup.session.usage;
  const total = u.promptTokens + u.completionTokens;
  const steps = turn ? `${turn.steps} step${turn.steps === 1 ? "" : "s"}, ${turn.calls.length} tool call${turn.calls.length === 1 ? "" : "s"}, ` : "";
  return `opsterm: ${steps}${total.toLocaleString("en")} tokens (${u.promptTokens.toLocaleString("en")} in, ${u.completionTokens.toLocaleString("en")} out), ${(ms / 1000).toFixed(1)} s; conversation ${setup.session.conversation}`;
}

/** The servers `--on` names: one binds the session (the tools take no server); several restrict it. */
async function scopeOf(ctx: CommandContext, on: unknown): Promise<{ bound?: string; allowed?: ResolvedServer[] }> {
  if (typeof on !== "string" || on === "") return {};
  const servers = await ctx.use("inventory").resolveTargets(on);
  return servers.length === 1 ? { bound: servers[0].id } : { allowed: servers };
}

const agentCommand = defineCommand({
  name: "agent",
  description: "Give the AI one task to carry out on your servers with remote tools (policy, approval and audit on every call), then exit",
  usage: "[...task]",
  options: [{ flags: "--on <target>", description: "Servers the task may use: one binds it (the model cannot name another), several restrict it" }, ...COMMON_OPTIONS],
  examples: ['opsterm agent "why is nginx failing on web1?"', 'opsterm agent --on web1 "raise worker_connections to 2048 and reload nginx"', 'opsterm agent --on @prod --json "check free disk space"'],
  async action(args, ctx) {
    const task = ((args.task as string[] | undefined) ?? []).join(" ").trim();
    if (!task) throw new UsageError("No task given", { code: "E_AGENT_NO_TASK", hint: 'opsterm agent "what to do"' });
    const scope = await scopeOf(ctx, args.on);
    const st = await setup(args, ctx, "agent", scope);
    const started = Date.now();
    if (scope.bound) await st.session.learn(scope.bound);
    let turn: TurnResult | undefined;
    try {
      turn = await st.session.turn(task);
    } catch (error) {
      await st.save();
      await recordHistory(ctx, st, task, undefined, Date.now() - started, { stop: ctx.signal.aborted ? "E_INTERRUPTED" : (error as OpstermError).code, ...st.session.usage });
      if (ctx.signal.aborted) throw new InterruptedError();
      throw error;
    }
    const ms = Date.now() - started;
    await st.save();
    await recordHistory(ctx, st, task, turn, ms);
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          conversation: st.session.conversation,
          provider: st.provider.name,
          model: st.provider.model,
          server: scope.bound ?? null,
          answer: turn.answer,
          steps: turn.steps,
          toolCalls: turn.calls,
          usage: st.session.usage,
          stop: turn.stop ?? null,
          durationMs: ms,
          rounds: turn.rounds,
        }),
      );
    } else {
      st.endLine();
      if (turn.calls.length === 0 && /```/.test(turn.answer)) ctx.io.err(ctx.io.errStyle.dim("opsterm: the model answered in text and called no tool; nothing was run"));
      ctx.io.err(ctx.io.errStyle.dim(usageLine(st, turn, ms)));
    }
    if (turn.stop) throw new OpstermError(turn.stop.code, turn.stop.message);
    return EXIT.OK;
  },
});

const chatCommand = defineCommand({
  name: "chat",
  description: "A conversation with the AI in the terminal; it can work on your servers with remote tools (/servers, /undo, /save, /exit)",
  options: [{ flags: "-c, --continue", description: "Resume the last agent conversation" }, ...COMMON_OPTIONS],
  examples: ["opsterm chat", "opsterm chat --continue"],
  action: (args, ctx) => repl(args, ctx, "chat"),
});

const connectCommand = defineCommand({
  name: "connect",
  description: "A conversation with the AI bound to one server: its tools reach that server and no other",
  usage: "<server>",
  options: [{ flags: "-c, --continue", description: "Resume the last agent conversation" }, ...COMMON_OPTIONS],
  examples: ["opsterm connect web1"],
  action: (args, ctx) => repl(args, ctx, "connect"),
});

/** The multi-turn loop of `chat` and `connect`: lines from the terminal (or stdin), slash commands, one agent turn per message. */
async function repl(args: Obj, ctx: CommandContext, mode: "chat" | "connect"): Promise<number> {
  let bound: string | undefined;
  if (mode === "connect") bound = (await ctx.use("inventory").resolveOne(String(args.server), { what: "connect" })).id;
  const st = await setup(args, ctx, mode, { bound }, Boolean(args.continue));
  const s = ctx.io.errStyle;
  const started = Date.now();
  if (st.bound) await st.session.learn(st.bound);
  const lines = lineReader(ctx);
  ctx.io.err(s.dim(`opsterm ${mode}${st.bound ? ` on ${st.bound}` : ""} · ${st.provider.name}/${st.provider.model} · /servers /undo /save /exit${args.continue ? ` · resumed ${st.session.conversation}` : ""}`));
  try {
    for (;;) {
      const line = await lines.next(s.bold("you> "));
      if (line === undefined) break;
      const text = line.trim();
      if (!text) continue;
      if (text.startsWith("/")) {
        const [cmd] = text.split(/\s+/);
        if (cmd === "/exit" || cmd === "/quit") break;
        if (cmd === "/servers") {
          for (const sv of await ctx.use("inventory").list()) {
            if (st.bound && sv.id !== st.bound) continue;
            const f = st.session.facts.get(sv.id);
            ctx.io.err(`${sv.id}  ${sv.user}@${sv.host}${sv.port === 22 ? "" : `:${sv.port}`}${sv.tags.length ? `  ${sv.tags.map((t) => "@" + t).join(" ")}` : ""}${f ? s.dim(`  ${f.distro ?? f.os ?? ""}`) : ""}`);
          }
          continue;
        }
        if (cmd === "/save") {
          const path = await st.save();
          if (path) ctx.io.err(`saved ${path} (opsterm chat --continue resumes it)`);
          continue;
        }
        if (cmd === "/undo") {
          await undoLast(ctx, st, Boolean(args.yes));
          continue;
        }
        if (cmd === "/help") {
          ctx.io.err("/servers  the servers this session can use\n/undo     how to undo the last file write\n/save     save the conversation now\n/exit     end the session (Ctrl-D too)");
          continue;
        }
        ctx.io.err(`Unknown command ${cmd}; /help lists them`);
        continue;
      }
      const t0 = Date.now();
      let turn: TurnResult | undefined;
      try {
        turn = await st.session.turn(text);
      } catch (error) {
        await st.save();
        await recordHistory(ctx, st, text, undefined, Date.now() - t0);
        if (ctx.signal.aborted) throw new InterruptedError();
        // A provider failure ends this turn, not the session.
        if (error instanceof OpstermError && error.exitCode !== EXIT.CONFIG) {
          ctx.io.err(`${s.red("error")} ${error.message} ${s.dim(`(${error.code})`)}`);
          continue;
        }
        throw error;
      }
      st.endLine();
      if (turn.stop) ctx.io.err(`${s.yellow("stopped")} ${turn.stop.message} ${s.dim(`(${turn.stop.code})`)}`);
      await st.save();
      await recordHistory(ctx, st, text, turn, Date.now() - t0);
      if (turn.stop?.code === "E_AGENT_ABORTED") break;
    }
  } finally {
    lines.close();
  }
  await st.save();
  ctx.io.err(s.dim(usageLine(st, undefined, Date.now() - started)));
  return EXIT.OK;
}

/**
 * `/undo`: the last file write of this session not yet undone, through `opsterm undo`'s service
 * (the audit plugin's "audit.undo") when it is there — itself a write through the gate, asked like
 * any other. What an exec command changed cannot be undone.
 */
async function undoLast(ctx: CommandContext, st: Setup, yes: boolean): Promise<void> {
  const s = ctx.io.errStyle;
  const last = [...st.session.calls].reverse().find((c) => c.written && c.auditSeq !== undefined && !st.undone.has(c.auditSeq));
  if (!last) {
    ctx.io.err("Nothing to undo: no file was written in this session (what an exec command changed cannot be undone)");
    return;
  }
  const service = ctx.tryUse("audit.undo");
  const where = `${last.written!.path} on ${last.server ?? st.bound}`;
  if (!service) {
    ctx.io.err(`The last write was ${where} (audit #${last.auditSeq}); this build has no undo ("opsterm undo" is missing)`);
    return;
  }
  const report = await service.undo({ seq: last.auditSeq! }, { actions: ctx.actions, preApproved: yes ? "flag:--yes" : undefined, conversation: st.session.conversation, signal: ctx.signal });
  for (const f of report.files) {
    ctx.io.err(`${f.status === "undone" ? s.green("undone") : s.yellow(f.status)} ${f.server}:${f.path}${f.auditSeq !== undefined ? s.dim(` · audit #${f.auditSeq}`) : ""}${f.error ? `: ${f.error.message}` : ""}`);
  }
  for (const note of report.notes) ctx.io.err(s.dim(note));
  if (report.error) ctx.io.err(`${s.red("error")} ${report.error.message} ${s.dim(`(${report.error.code})`)}`);
  if (report.ok) {
    st.undone.add(last.auditSeq!);
    // The model must know the file is back as it was.
    st.session.messages.push({ role: "user", content: `(opsterm: the person undid your write of ${where}; it holds its earlier content again.)` });
  } else ctx.io.err(s.dim(`opsterm undo ${last.auditSeq} retries it (--dry-run shows the diff)`));
}

/** Lines typed at the terminal (a fresh readline per question, so approval prompts can use it in between), or read from piped stdin. */
function lineReader(ctx: CommandContext): { next(prompt: string): Promise<string | undefined>; close(): void } {
  interface Piped {
    queue: string[];
    ended: boolean;
    wake?: () => void;
    rl?: { close(): void };
  }
  const holder: { piped?: Piped } = {};
  return {
    async next(prompt) {
      const { createInterface } = await import("node:readline");
      if (ctx.io.isTTY.stdin) {
        const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: true });
        try {
          return await new Promise<string | undefined>((resolve) => {
            rl.on("close", () => resolve(undefined));
            rl.on("SIGINT", () => resolve(undefined));
            rl.question(prompt, (answer) => resolve(answer));
          });
        } finally {
          rl.removeAllListeners("close");
          rl.close();
        }
      }
      if (!holder.piped) {
        const state: Piped = { queue: [], ended: false };
        const rl = createInterface({ input: ctx.io.stdin, terminal: false });
        rl.on("line", (l: string) => {
          state.queue.push(l);
          state.wake?.();
        });
        rl.on("close", () => {
          state.ended = true;
          state.wake?.();
        });
        state.rl = rl;
        holder.piped = state;
      }
      const p = holder.piped;
      while (p.queue.length === 0 && !p.ended) await new Promise<void>((resolve) => (p.wake = resolve));
      p.wake = undefined;
      const line = p.queue.shift();
      if (line !== undefined && ctx.io.isTTY.stderr) ctx.io.err(`${prompt}${line}`);
      return line;
    },
    close() {
      holder.piped?.rl?.close();
    },
  };
}

export const agentCommands: CommandSpec[] = [agentCommand, chatCommand, connectCommand];

/** `ai.system_prompt`, the original OpsTerm's key for the user's own instructions to the model. */
function userInstructions(values: Obj): string | undefined {
  const ai = values.ai;
  const text = ai && typeof ai === "object" ? (ai as Obj).system_prompt : undefined;
  return typeof text === "string" && text.trim() ? text.trim() : undefined;
}
