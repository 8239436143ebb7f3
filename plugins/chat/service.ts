/**
 * The "chat" service: provider resolution (with API key lookup and a local-server probe),
 * redaction of the whole request, the chatRequest/chatResponse hooks, and the HTTP call.
 */
import { execFile } from "node:child_process";
import type { ChatMessage, PluginContext } from "../../src/kernel/index.ts";
import { ConfigError } from "../../src/kernel/index.ts";
import { closest } from "../../src/lib/schema.ts";
import { complete, scrubber } from "./client.ts";
import { chatSettings, cheapKeys, PRESETS, presetProvider, resolveProvider, type ProviderConfig } from "./config.ts";
import type { ChatAnswer, ChatAskOptions, ChatService, ResolvedProviderInfo } from "./types.ts";
import { resolveVaultKey } from "./vault-key.ts";

type Obj = Record<string, unknown>;

const NO_PROVIDER_HINT = [
  "Set one up, for example:",
  "  opsterm config set providers.openai.apiKeyEnv OPENAI_API_KEY   (and export OPENAI_API_KEY)",
  "  opsterm config set chat.provider openai",
  "or point at any OpenAI-compatible server: OPSTERM_BASE_URL=http://host:port/v1 OPSTERM_MODEL=name",
  "or start a local server: ollama (127.0.0.1:11434) or llama.cpp (127.0.0.1:8080). See \"opsterm help chat\"",
].join("\n");

function keySourceLabel(p: ProviderConfig): string {
  switch (p.key.kind) {
    case "none":
      return p.keyWithheld ? "withheld (the workspace sets where requests go)" : "none";
    case "literal":
      return `${p.key.from} (config)`;
    case "env":
      return `env ${p.key.name}`;
    case "cmd":
      return `command ${p.key.argv[0]}`;
    case "vault":
      return `vault ${p.key.name} (${p.key.from})`;
  }
}

export function infoOf(p: ProviderConfig): ResolvedProviderInfo {
  return {
    name: p.name,
    baseUrl: p.baseUrl,
    model: p.model,
    contextWindow: p.contextWindow,
    maxTokens: p.maxTokens,
    temperature: p.temperature,
    supportsTools: p.supportsTools,
    keySource: keySourceLabel(p),
    origin: p.origin,
  };
}

/** A base URL that is not an http(s) URL is a mistake in the settings (exit 78), not a network failure to retry. */
function checkBaseUrl(p: ProviderConfig, env: Record<string, string | undefined>): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(p.baseUrl).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === "http:" || protocol === "https:") return;
  const from = env.OPSTERM_BASE_URL?.trim() ? "OPSTERM_BASE_URL" : p.origin === "ai-block" ? "ai.api_url" : `providers.${p.name}.baseUrl`;
  throw new ConfigError("E_CHAT_BASE_URL", `The provider URL "${p.baseUrl}" (${from}) is not an http:// or https:// URL`, {
    hint: from === "OPSTERM_BASE_URL" ? "Set OPSTERM_BASE_URL=https://host/v1" : `opsterm config set ${from} https://host/v1`,
  });
}

/** Finds the provider for a call, probing ollama and llama.cpp on loopback when nothing is configured. */
export async function loadProvider(ctx: PluginContext, request: { provider?: string; model?: string }): Promise<ProviderConfig> {
  const config = await ctx.config();
  const found = resolveProvider(config.values as Obj, ctx.env, request, config.scopeOf);
  if (found && "unknown" in found) {
    const guess = closest(found.unknown, found.known);
    throw new ConfigError("E_CHAT_PROVIDER_UNKNOWN", `Unknown provider "${found.unknown}"${guess ? `, did you mean "${guess}"?` : ""}`, {
      hint: `Known: ${[...new Set(found.known)].join(", ")}. Add one under "providers:" in config.yaml`,
    });
  }
  if (found) {
    if (found.keyWithheld) ctx.io.notice({ code: "W_KEY_WITHHELD", message: `provider "${found.name}": ${found.keyWithheld}`, hint: `Declare the key for this URL in the workspace's own providers.${found.name}.apiKey, or set the URL in your global config` });
    if (!found.baseUrl) throw new ConfigError("E_CHAT_NO_BASEURL", `Provider "${found.name}" has no baseUrl`, { hint: `opsterm config set providers.${found.name}.baseUrl https://host/v1` });
    checkBaseUrl(found, ctx.env);
    return found;
  }
  for (const name of ["ollama", "llamacpp"]) {
    const preset = presetProvider(name)!;
    const model = await probe(preset.baseUrl);
    if (model !== undefined) {
      const m = request.model ?? ctx.env.OPSTERM_MODEL ?? (model || preset.model);
      return { ...preset, model: m, origin: "local-probe" };
    }
  }
  throw new ConfigError("E_CHAT_NO_PROVIDER", "No AI provider is configured and no local server (ollama, llama.cpp) answers", { hint: NO_PROVIDER_HINT });
}

/** GET /models on a loopback server; the first model id, "" if it lists none, undefined if unreachable. */
async function probe(baseUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(400) });
    if (!res.ok) return undefined;
    const data = (await res.json()) as { data?: { id?: string }[] };
    return data.data?.[0]?.id ?? "";
  } catch {
    return undefined;
  }
}

/** The API key, from config, the environment or a command (argv, no shell). Never logged. */
export async function resolveKey(ctx: PluginContext, p: ProviderConfig): Promise<string | undefined> {
  switch (p.key.kind) {
    case "none":
      return undefined;
    case "literal":
      return p.key.value;
    case "vault":
      return resolveVaultKey(ctx, p.key);
    case "env": {
      const value = ctx.env[p.key.name];
      if (value) return value;
      if (PRESETS[p.name]?.local || p.origin === "env") return undefined;
      throw new ConfigError("E_CHAT_NO_KEY", `Provider "${p.name}" needs an API key in the environment variable ${p.key.name}, which is not set`, {
        hint: `export ${p.key.name}=…  (or set providers.${p.name}.apiKeyCmd to a command that prints it)`,
      });
    }
    case "cmd": {
      const argv = p.key.argv;
      const [file, ...args] = argv;
      return await new Promise<string>((resolve, reject) => {
        execFile(file, args, { timeout: 15_000, env: ctx.env as NodeJS.ProcessEnv, maxBuffer: 64 * 1024, windowsHide: true }, (error, stdout) => {
          const key = String(stdout).trim().split("\n")[0]?.trim();
          if (error || !key) {
            // The command's output may hold the key: never repeat it.
            const why = error ? ((error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : `exit ${(error as { code?: unknown }).code ?? "?"}`) : "printed nothing";
            reject(new ConfigError("E_CHAT_KEY_CMD", `apiKeyCmd of provider "${p.name}" (${file}) failed: ${why}`, { hint: `Run "${argv.join(" ")}" yourself to check it prints the key` }));
          } else resolve(key);
        });
      });
    }
  }
}

export function createChatService(ctx: PluginContext): ChatService {
  return {
    async provider(options = {}) {
      return infoOf(await loadProvider(ctx, options));
    },
    async ask(messages, options = {}) {
      return ask(ctx, messages, options);
    },
  };
}

async function ask(ctx: PluginContext, input: ChatMessage[], options: ChatAskOptions): Promise<ChatAnswer> {
  const config = await ctx.config();
  const settings = chatSettings(config.values as Obj, ctx.env);
  const provider = await loadProvider(ctx, options);
  const apiKey = await resolveKey(ctx, provider);
  const scrub = scrubber(apiKey);
  let messages = input.map((m) => ({ ...m }));
  let redactions = 0;
  const redactor = options.allowSecrets ? undefined : await makeRedactor(ctx, apiKey);
  if (redactor) messages = redactor.redactDeep(messages);
  const event = await ctx.hooks.call("chatRequest", { provider: provider.name, model: provider.model, messages, redactions: redactor?.count ?? 0 });
  // Hooks may add context: it goes through the redactor too (placeholders are left alone).
  messages = redactor ? redactor.redactDeep(event.messages) : event.messages;
  redactions = Math.max(redactor?.count ?? 0, event.redactions);
  // Even with --allow-secrets, the provider's own key is never sent as content.
  messages = messages.map((m) => ({ ...m, content: scrub(m.content) }));
  if (redactions > 0 && !options.quiet) {
    ctx.io.err(ctx.io.errStyle.dim(`opsterm: redacted ${redactions} secret value${redactions === 1 ? "" : "s"} before sending (--allow-secrets to send them as they are)`));
  }
  const started = Date.now();
  const result = await complete({
    baseUrl: provider.baseUrl,
    model: provider.model,
    apiKey,
    messages,
    temperature: provider.temperature,
    maxTokens: provider.maxTokens,
    tools: options.tools,
    stream: options.stream !== false,
    connectTimeoutMs: settings.connectTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    retries: settings.retries,
    signal: options.signal,
    onToken: options.onToken,
    backoffMs: ctx.env.OPSTERM_TEST_BACKOFF_MS ? Number(ctx.env.OPSTERM_TEST_BACKOFF_MS) : undefined,
    onRetry: options.quiet ? undefined : (r) => ctx.io.err(ctx.io.errStyle.dim(`opsterm: ${r.reason}; retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s`)),
  });
  const answer: ChatAnswer = {
    content: result.content,
    finishReason: result.finishReason,
    truncated: result.truncated,
    provider: provider.name,
    model: provider.model,
    durationMs: Date.now() - started,
    usage: result.usage,
    redactions,
    sent: messages,
    toolCalls: result.toolCalls,
  };
  await ctx.hooks.call("chatResponse", {
    provider: answer.provider,
    model: answer.model,
    content: answer.content,
    finishReason: answer.finishReason,
    durationMs: answer.durationMs,
    usage: answer.usage,
  });
  return answer;
}

async function makeRedactor(ctx: PluginContext, apiKey: string | undefined) {
  const { createRedactor } = await import("../../src/lib/redact.ts");
  const fromPlugins = (await ctx.hooks.call("secretValues")) ?? [];
  const values = (await ctx.config()).values as Obj;
  return createRedactor({ knownSecrets: [...fromPlugins, ...cheapKeys(values, ctx.env), apiKey] });
}
