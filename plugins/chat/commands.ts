/**
 * `opsterm <question…>` / `opsterm ask`, and `opsterm provider list|test|models`.
 */
import type { ChatMessage, CommandContext, CommandSpec } from "../../src/kernel/index.ts";
import { defineCommand, EXIT, UsageError, UnavailableError } from "../../src/kernel/index.ts";
import type { ChatAnswer, ChatService } from "./types.ts";
import { providerEditCommands } from "./provider-edit.ts";

type Obj = Record<string, unknown>;

/** How long silent, still-open stdin may keep us waiting before we say so. */
const WAIT_NOTE_MS = 2000;

const SUMMARY_QUESTION =
  "Summarise this input: what it is, what stands out (errors, warnings, anomalies), and what, if anything, I should do next.";

const askCommand = defineCommand({
  name: "ask",
  description: "Ask the AI (also: opsterm <question…>); piped stdin becomes context",
  usage: "[...question]",
  isDefault: true,
  options: [
    { flags: "-c, --continue", description: "Continue the last conversation" },
    { flags: "--model <model>", description: "Model to use for this question" },
    { flags: "--provider <name>", description: "Provider to use (a name under providers:, ai, or a preset)" },
    { flags: "--no-stream", description: "Wait for the whole answer instead of streaming it" },
    { flags: "--on <server>", description: "Suggested commands run on this inventory server (its facts go into the prompt)" },
    { flags: "--exec", description: "Offer suggested commands even when stdout is not a terminal" },
    { flags: "--allow-secrets", description: "Do not redact secrets in this request" },
    { flags: "--no-stdin", description: "Do not read piped stdin" },
  ],
  examples: [
    'opsterm "why is /var full?"',
    "journalctl -u nginx -n 200 | opsterm why does it fail",
    "dmesg | opsterm",
    "opsterm ask -c and how do I make it permanent",
    "opsterm --on web-1 how do I check the nginx config",
  ],
  action: (args, ctx) => runAsk(args, ctx),
});

async function runAsk(args: Obj, ctx: CommandContext): Promise<number> {
  const { readPipeInput, estimateTokens, formatBytes } = await import("./pipe-input.ts");
  const { systemPrompt } = await import("./system-prompt.ts");
  const conv = await import("./conversation.ts");
  const chat = ctx.use("chat") as ChatService;
  const s = ctx.io.errStyle;
  let question = ((args.question as string[] | undefined) ?? []).join(" ").trim();
  const server = typeof args.on === "string" ? args.on : undefined;

  // Resolve the provider first: a configuration problem is reported before stdin is read.
  const provider = await chat.provider({ provider: args.provider as string | undefined, model: args.model as string | undefined });
  const target = server ? await targetFacts(ctx, server) : undefined;
  const { userSystemPrompt } = await import("./config.ts");
  const system = systemPrompt(ctx.env, target, userSystemPrompt((await ctx.config()).values));
  const reserve = provider.maxTokens ?? Math.min(4096, Math.floor(provider.contextWindow / 4));
  let budget = provider.contextWindow - reserve - estimateTokens(system) - estimateTokens(question) - 64;

  let previous: ChatMessage[] = [];
  let conversationId = conv.newConversationId();
  if (args.continue) {
    const last = await conv.loadConversation(ctx.paths.dataDir);
    if (!last) throw new UsageError("There is no conversation to continue", { code: "E_CHAT_NO_CONVERSATION", hint: "Ask a question first; -c continues it" });
    previous = conv.fitTurns(last.messages, Math.floor(budget / 2));
    conversationId = last.id;
    budget -= previous.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
  }

  let input: Awaited<ReturnType<typeof readPipeInput>> | undefined;
  if (!ctx.io.isTTY.stdin && args.stdin !== false) {
    const config = await ctx.config();
    const { chatSettings } = await import("./config.ts");
    const settings = chatSettings(config.values as Obj, ctx.env);
    // stdin that is open but silent (ssh without -n, a parent that never closes it) would look
    // like a hang: after a moment, say what we are waiting for and how not to.
    const waiting = setTimeout(() => {
      ctx.io.err(s.dim(`opsterm: waiting for input on stdin (it is not a terminal)… press Ctrl-D to end it, or pass --no-stdin${question ? "" : " and a question"}`));
    }, WAIT_NOTE_MS);
    try {
      input = await readPipeInput(ctx.io.stdin, {
        maxBytes: settings.maxInputBytes,
        maxTokens: Math.max(256, Math.floor(budget * 0.9)),
        signal: ctx.signal,
        onFirstData: () => clearTimeout(waiting),
      });
    } finally {
      clearTimeout(waiting);
    }
    if (input.bytesRead === 0 || input.text.trim() === "") input = undefined;
    else {
      if (input.truncated) {
        ctx.io.warn(`piped input is ${input.stoppedEarly ? "longer than " : ""}${formatBytes(input.bytesRead)}; sent the first and last part (${formatBytes(input.omittedBytes)} left out in the middle${input.stoppedEarly ? ", and the rest was not read" : ""})`);
      }
      if (input.binary) ctx.io.warn("piped input looks binary; control bytes were replaced");
      else if (input.neutralised > 0) ctx.io.debug(`neutralised ${input.neutralised} escape sequences / control characters in the input`);
    }
  }
  if (!question && !input) {
    throw new UsageError("No question, and nothing was piped in", {
      code: "E_CHAT_NO_QUESTION",
      hint: 'Ask something: opsterm "why is the disk full?", or pipe output in: dmesg | opsterm',
    });
  }
  if (!question) question = SUMMARY_QUESTION;
  const userContent = input ? `${question}\n\nInput (piped from a command${input.truncated ? ", shortened" : ""}):\n<input>\n${input.text}\n</input>` : question;
  const messages: ChatMessage[] = [{ role: "system", content: system }, ...previous, { role: "user", content: userContent }];

  const streaming = args.stream !== false && !ctx.json;
  const { startSpinner, markdownSink, plainSink } = await import("./render.ts");
  const spinner = startSpinner(ctx.io.stderr, ctx.io.isTTY.stderr && !ctx.json);
  const write = (t: string) => void ctx.io.stdout.write(t);
  const sink = ctx.json ? undefined : ctx.io.isTTY.stdout ? markdownSink(write, ctx.io.style) : plainSink(write);
  let answer: ChatAnswer;
  try {
    answer = await chat.ask(messages, {
      provider: args.provider as string | undefined,
      model: args.model as string | undefined,
      stream: args.stream !== false,
      allowSecrets: Boolean(args.allowSecrets),
      signal: ctx.signal,
      onToken: (t) => {
        spinner.stop();
        if (streaming) sink?.push(t);
      },
    });
  } catch (error) {
    spinner.stop();
    sink?.end();
    throw error;
  }
  spinner.stop();
  if (!streaming && sink) sink.push(answer.content);
  sink?.end();

  const { extractCommands, saveSuggestion, offerCommands } = await import("./suggest.ts");
  // Nothing from a truncated answer is offered, saved or run (an incomplete one threw above).
  const commands = answer.truncated ? [] : extractCommands(answer.content);
  const sentUser = answer.sent[answer.sent.length - 1];
  const turns = [...answer.sent.filter((m) => m.role !== "system"), { role: "assistant" as const, content: answer.content }];
  const secrets = (await ctx.hooks.call("secretValues").catch(() => undefined)) ?? [];
  await conv.saveConversation(ctx.paths.dataDir, { id: conversationId, provider: answer.provider, model: answer.model, updatedAt: new Date().toISOString(), messages: turns }, secrets).catch((error) => {
    ctx.io.warn(`the conversation was not saved for --continue: ${(error as Error).message}`);
  });
  try {
    await ctx.hooks.call("history", {
      // Piped input makes it a "pipe" entry, so `history --mode pipe` finds `cmd | opsterm` runs.
      mode: input ? "pipe" : "ask",
      conversation: conversationId,
      question: sentUser?.content ?? question,
      answer: answer.content,
      provider: answer.provider,
      model: answer.model,
      promptTokens: answer.usage?.promptTokens,
      completionTokens: answer.usage?.completionTokens,
      durationMs: answer.durationMs,
      finishReason: answer.finishReason ?? undefined,
      server,
      runId: ctx.runId,
    });
  } catch (error) {
    ctx.io.warn(`history was not recorded: ${(error as Error).message}`);
  }

  const suggestion = commands.length > 0 ? await saveSuggestion(ctx, commands, server) : undefined;
  const shell = ctx.tryUse("shell");
  if (suggestion && shell && !ctx.json && ctx.env.OPSTERM_SHELL_SESSION) ctx.io.err(s.dim(`opsterm: suggested command saved; ${shell.insertHint}`));

  if (answer.truncated) {
    ctx.io.warn("the answer was cut off at the length limit (finish_reason: length); commands from it are not offered. Raise maxTokens or ask for less");
  }
  if (ctx.json) {
    ctx.io.out(
      JSON.stringify({
        conversation: conversationId,
        provider: answer.provider,
        model: answer.model,
        answer: answer.content,
        finishReason: answer.finishReason,
        truncated: answer.truncated,
        usage: answer.usage ?? null,
        durationMs: answer.durationMs,
        redactions: answer.redactions,
        input: input ? { bytesRead: input.bytesRead, truncated: input.truncated, omittedBytes: input.omittedBytes, binary: input.binary } : null,
        commands,
        suggestion: suggestion ?? null,
      }),
    );
    return 0;
  }
  if (commands.length === 0) return 0;
  const wantOffer = ctx.io.isTTY.stdout || Boolean(args.exec);
  if (!wantOffer) return 0;
  if (!ctx.prompt.interactive) {
    ctx.io.err(s.dim(`opsterm: ${commands.length} suggested command${commands.length === 1 ? "" : "s"} not offered: there is no terminal to ask on${input ? " (stdin is the pipe)" : ""}`));
    return 0;
  }
  const results = await offerCommands(ctx, commands, {
    server,
    describe: async (command) => {
      const sinkD = ctx.io.isTTY.stdout ? markdownSink((t) => void ctx.io.stderr.write(t), ctx.io.errStyle) : plainSink((t) => void ctx.io.stderr.write(t));
      await chat.ask(
        [
          { role: "system", content: system },
          { role: "user", content: `Explain briefly what this command does, part by part, and what could go wrong. Do not suggest other commands.\n\n\`\`\`bash\n${command}\n\`\`\`` },
        ],
        { provider: args.provider as string | undefined, model: args.model as string | undefined, allowSecrets: Boolean(args.allowSecrets), signal: ctx.signal, onToken: (t) => sinkD.push(t) },
      );
      sinkD.end();
    },
  });
  const last = [...results].reverse().find((r) => r.action === "executed");
  // Nothing ran because its audit record could not be written: that is an I/O failure (74).
  if (!last && results.some((r) => r.status === EXIT.IO)) return EXIT.IO;
  return last?.exitCode === undefined || last.exitCode === null ? 0 : last.exitCode;
}

async function targetFacts(ctx: CommandContext, server: string): Promise<{ id: string; [k: string]: unknown }> {
  const inventory = ctx.tryUse("inventory");
  if (!inventory || typeof inventory.get !== "function") {
    throw new UnavailableError("E_CHAT_NO_INVENTORY", `Cannot use --on "${server}": no plugin provides the server inventory`, { hint: `Run "opsterm doctor" to see whether the ssh plugin failed to load` });
  }
  const entry = await inventory.get(server);
  if (!entry) throw new UsageError(`Unknown server "${server}"`, { code: "E_CHAT_UNKNOWN_SERVER", hint: `"opsterm servers" lists the inventory` });
  return { id: entry.id, host: entry.host, user: entry.user, port: entry.port, tags: entry.tags, tier: entry.tier, desc: entry.desc };
}

const providerList = defineCommand({
  name: "provider list",
  groupDescription: "List, add, remove, test and query AI providers",
  description: "Show the configured providers, presets, and which one is the default",
  async action(_args, ctx) {
    const { configuredProviders, PRESETS, presetProvider, resolveProvider } = await import("./config.ts");
    const { infoOf } = await import("./service.ts");
    const config = await ctx.config();
    const values = config.values as Obj;
    const configured = configuredProviders(values);
    const current = resolveProvider(values, ctx.env, {}, config.scopeOf);
    const currentName = current && !("unknown" in current) ? current.name : undefined;
    const rows = [
      ...configured.map((p) => ({ ...infoOf(p), default: p.name === currentName })),
      ...Object.keys(PRESETS)
        .filter((n) => !configured.some((p) => p.name === n))
        .map((n) => ({ ...infoOf(presetProvider(n)!), default: n === currentName })),
    ];
    if (currentName === "env" && current && !("unknown" in current)) rows.unshift({ ...infoOf(current), default: true });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ default: currentName ?? null, providers: rows }));
    const st = ctx.io.style;
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) {
      ctx.io.out(`${r.default ? st.green("*") : " "} ${r.name.padEnd(w)}  ${r.baseUrl}  ${st.bold(r.model)}  ${st.dim(`key: ${r.keySource}; ${r.origin}`)}`);
    }
    if (!currentName) ctx.io.out(st.dim("No default: set chat.provider, or OPSTERM_PROVIDER, or configure one provider"));
  },
});

const providerTest = defineCommand({
  name: "provider test",
  description: "Send a tiny request to a provider and report latency (exit 0 when it answers)",
  usage: "[name]",
  options: [{ flags: "--model <model>", description: "Model to test" }],
  examples: ["opsterm provider test", "opsterm provider test ollama"],
  async action(args, ctx) {
    const chat = ctx.use("chat") as ChatService;
    const info = await chat.provider({ provider: args.name as string | undefined, model: args.model as string | undefined });
    const started = Date.now();
    const answer = await chat.ask([{ role: "user", content: "Reply with the single word: pong" }], { provider: info.name, model: info.model, quiet: true, stream: true, signal: ctx.signal });
    const ms = Date.now() - started;
    if (ctx.json) return void ctx.io.out(JSON.stringify({ provider: info.name, baseUrl: info.baseUrl, model: info.model, ok: true, ms, answer: answer.content.slice(0, 200), finishReason: answer.finishReason }));
    ctx.io.out(`${ctx.io.style.green("ok")} ${info.name} (${info.baseUrl}, ${info.model}) answered in ${ms} ms: ${JSON.stringify(answer.content.trim().slice(0, 80))}`);
  },
});

const providerModels = defineCommand({
  name: "provider models",
  description: "List the models a provider offers (GET /models)",
  usage: "[name]",
  async action(args, ctx) {
    const { loadProvider, resolveKey } = await import("./service.ts");
    const { scrubber } = await import("./client.ts");
    const { ofetch } = await import("ofetch");
    const p = await loadProvider(ctx, { provider: args.name as string | undefined });
    const key = await resolveKey(ctx, p);
    const scrub = scrubber(key);
    let data: { data?: { id: string; owned_by?: string }[]; models?: { name: string }[] };
    try {
      data = await ofetch(`${p.baseUrl}/models`, { headers: key ? { authorization: `Bearer ${key}` } : {}, timeout: 15_000, retry: 1, signal: ctx.signal });
    } catch (error) {
      const e = error as { status?: number; message?: string };
      throw new UnavailableError("E_CHAT_MODELS", scrub(`Cannot list the models of "${p.name}" at ${p.baseUrl}${e.status ? ` (HTTP ${e.status})` : ""}`), { hint: "Check baseUrl and the API key; opsterm provider test shows what the provider says" });
    }
    const ids = (data.data ?? []).map((m) => m.id).concat((data.models ?? []).map((m) => m.name)).sort();
    if (ctx.json) return void ctx.io.out(JSON.stringify({ provider: p.name, models: ids }));
    for (const id of ids) ctx.io.out(id === p.model ? `${id} ${ctx.io.style.green("(configured)")}` : id);
    if (ids.length === 0) ctx.io.err("The provider listed no models");
  },
});

export const chatCommands: CommandSpec[] = [askCommand, providerList, providerTest, providerModels, ...providerEditCommands];
