/**
 * Provider configuration: the config keys the chat plugin owns, the presets, and the resolution
 * of "which provider, which model, which key" from flags, environment and config.yaml.
 *
 * A key is bound to the scope that declares it: when a workspace sets a provider's base URL (or
 * its preset), only a key the workspace itself wrote (`apiKey`) is sent there, never one from
 * the global config, a preset's environment variable, or OPSTERM_API_KEY.
 */
import type { SchemaNode, Scope } from "../../src/kernel/index.ts";
import { vaultKeySource, type VaultKeySource } from "./vault-key.ts";

const num = (description: string, min = 0, max?: number, integer = false): SchemaNode => ({ type: "number", min, max, integer, description });
const str = (description: string): SchemaNode => ({ type: "string", description });

const PROVIDER_SCHEMA: SchemaNode = {
  type: "object",
  description: "One OpenAI-compatible chat-completions endpoint",
  properties: {
    preset: { type: "string", enum: ["openai", "deepseek", "openrouter", "groq", "ollama", "llamacpp"], description: "Start from a preset's defaults" },
    baseUrl: str("API base URL, e.g. https://api.openai.com/v1"),
    model: str("Model name"),
    apiKey: str("API key (prefer apiKeyEnv or apiKeyCmd)"),
    // The original OpsTerm's spelling (what its `provider add` writes), read as baseUrl / apiKey.
    api_url: str("API URL, the original OpsTerm's spelling of baseUrl (a pasted /chat/completions is stripped)"),
    api_key: str("API key, the original OpsTerm's spelling of apiKey"),
    // Global-only: a workspace must not run a command, nor pick which of your variables is sent.
    apiKeyEnv: { type: "string", globalOnly: true, description: "Name of the environment variable holding the API key (global config only)" },
    apiKeyCmd: { type: "oneOf", of: [{ type: "string" }, { type: "array", items: { type: "string" } }], globalOnly: true, description: "Command (argv, no shell) whose stdout is the API key (global config only)" },
    temperature: num("Sampling temperature", 0, 2),
    maxTokens: num("Answer length limit in tokens", 1, undefined, true),
    contextWindow: num("Context window in tokens (bounds piped input)", 256, undefined, true),
    supportsTools: { type: "boolean", description: "The model supports tool calls" },
  },
};

/** Top-level config keys owned by the chat plugin. */
export const CHAT_CONFIG: Record<string, SchemaNode> = {
  ai: {
    type: "object",
    description: "The original OpsTerm AI block (still honoured)",
    properties: {
      api_url: str("API base URL"),
      api_key: str("API key"),
      model: str("Model name"),
      temperature: num("Sampling temperature", 0, 2),
      max_tokens: num("Answer length limit in tokens", 1, undefined, true),
      provider: str("Name of the default provider when default_provider is not set (the original OpsTerm's label)"),
      system_prompt: str("Your own instructions, added to opsterm's system prompt"),
      response_style: { type: "string", description: "The original OpsTerm's answer style (concise|detailed); not used by opsterm" },
    },
  },
  default_provider: str("Name of the default provider (the original OpsTerm's key; chat.provider wins)"),
  providers: { type: "object", additional: PROVIDER_SCHEMA, description: "Named providers" },
  chat: {
    type: "object",
    description: "Chat behaviour",
    properties: {
      provider: str("Name of the default provider (a key of providers, or a preset)"),
      maxInputBytes: num("Byte cap for piped stdin", 1024, undefined, true),
      connectTimeoutMs: num("Time allowed until the provider answers", 100, undefined, true),
      idleTimeoutMs: num("Time allowed between two streamed chunks", 100, undefined, true),
      retries: num("Retries for 408/409/429/5xx and connection errors", 0, 10, true),
    },
  },
};

export interface Preset {
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
  contextWindow: number;
  local?: boolean;
}

export const PRESETS: Record<string, Preset> = {
  openai: { baseUrl: "https://api.openai.com/v1", model: "gpt-4o-mini", apiKeyEnv: "OPENAI_API_KEY", contextWindow: 128_000 },
  deepseek: { baseUrl: "https://api.deepseek.com/v1", model: "deepseek-chat", apiKeyEnv: "DEEPSEEK_API_KEY", contextWindow: 64_000 },
  openrouter: { baseUrl: "https://openrouter.ai/api/v1", model: "openai/gpt-4o-mini", apiKeyEnv: "OPENROUTER_API_KEY", contextWindow: 128_000 },
  groq: { baseUrl: "https://api.groq.com/openai/v1", model: "llama-3.3-70b-versatile", apiKeyEnv: "GROQ_API_KEY", contextWindow: 128_000 },
  ollama: { baseUrl: "http://127.0.0.1:11434/v1", model: "llama3.2", contextWindow: 8192, local: true },
  llamacpp: { baseUrl: "http://127.0.0.1:8080/v1", model: "default", contextWindow: 8192, local: true },
};

/** Where the API key comes from; the key itself is resolved late and never printed. */
export type KeySource = { kind: "none" } | { kind: "literal"; value: string; from: string } | { kind: "env"; name: string } | { kind: "cmd"; argv: string[] } | VaultKeySource;

export interface ProviderConfig {
  name: string;
  baseUrl: string;
  model: string;
  key: KeySource;
  temperature?: number;
  maxTokens?: number;
  contextWindow: number;
  supportsTools: boolean;
  /** Where it came from, for `provider list`. */
  origin: "config" | "preset" | "ai-block" | "env" | "local-probe";
  /** Why no key is sent although one is configured (the base URL is not the key's scope's). */
  keyWithheld?: string;
}

/** Which config file a dotted key's value comes from (LoadedConfig.scopeOf); all global when absent. */
export type ScopeOf = (key: string) => Scope | undefined;

export interface ChatSettings {
  maxInputBytes: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

export function chatSettings(values: Obj, env: Record<string, string | undefined>): ChatSettings {
  const c = obj(values.chat);
  const envNum = (name: string) => (env[name] && Number.isFinite(Number(env[name])) ? Number(env[name]) : undefined);
  return {
    maxInputBytes: n(c.maxInputBytes) ?? envNum("OPSTERM_MAX_INPUT_BYTES") ?? 4 * 1024 * 1024,
    connectTimeoutMs: n(c.connectTimeoutMs) ?? 30_000,
    idleTimeoutMs: n(c.idleTimeoutMs) ?? 60_000,
    retries: n(c.retries) ?? 3,
  };
}

/** Strips a trailing slash and a pasted `/chat/completions`. */
function normalizeBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, "").replace(/\/chat\/completions$/, "");
}

function keyFrom(entry: Obj, preset: Preset | undefined, label: string): KeySource {
  const literal = s(entry.apiKey);
  if (literal) return vaultKeySource(literal, label) ?? { kind: "literal", value: literal, from: label };
  const envName = s(entry.apiKeyEnv);
  if (envName) return { kind: "env", name: envName };
  const cmd = entry.apiKeyCmd;
  if (typeof cmd === "string" && cmd.trim()) return { kind: "cmd", argv: cmd.trim().split(/\s+/) };
  if (Array.isArray(cmd) && cmd.length) return { kind: "cmd", argv: cmd.map(String) };
  if (preset?.apiKeyEnv) return { kind: "env", name: preset.apiKeyEnv };
  return { kind: "none" };
}

/** A provider entry as the original OpsTerm wrote it (`api_url`, `api_key`), read as opsterm's own keys (which win). */
function originalSpelling(entry: Obj): Obj {
  if (entry.api_url === undefined && entry.api_key === undefined) return entry;
  return { ...entry, baseUrl: s(entry.baseUrl) ?? s(entry.api_url), apiKey: s(entry.apiKey) ?? s(entry.api_key) };
}

/**
 * The default provider's name: chat.provider, else the original OpsTerm's `default_provider`, else
 * its `ai.provider` when that names a configured provider (elsewhere it was only a label).
 */
export function defaultProviderName(values: Obj): string | undefined {
  const label = s(obj(values.ai).provider);
  return s(obj(values.chat).provider) ?? s(values.default_provider) ?? (label && label in obj(values.providers) ? label : undefined);
}

/** The user's own instructions for the model (`ai.system_prompt`), if any. */
export function userSystemPrompt(values: Obj): string | undefined {
  return s(obj(values.ai).system_prompt)?.trim() || undefined;
}

/** Every provider config.yaml names, plus the `ai:` block as "ai". */
export function configuredProviders(values: Obj): ProviderConfig[] {
  const list: ProviderConfig[] = [];
  const ai = obj(values.ai);
  for (const [name, raw] of Object.entries(obj(values.providers))) {
    const entry = originalSpelling(obj(raw));
    const preset = PRESETS[s(entry.preset) ?? name];
    list.push({
      name,
      baseUrl: normalizeBaseUrl(s(entry.baseUrl) ?? preset?.baseUrl ?? ""),
      model: s(entry.model) ?? preset?.model ?? "",
      key: keyFrom(entry, preset, `providers.${name}.${s(obj(raw).apiKey) ? "apiKey" : s(obj(raw).api_key) ? "api_key" : "apiKey"}`),
      // The original OpsTerm applied ai.temperature / ai.max_tokens to whichever provider was active.
      temperature: n(entry.temperature) ?? n(ai.temperature),
      maxTokens: n(entry.maxTokens) ?? n(ai.max_tokens),
      contextWindow: n(entry.contextWindow) ?? preset?.contextWindow ?? 8192,
      supportsTools: entry.supportsTools === true,
      origin: "config",
    });
  }
  if (s(ai.api_url) || s(ai.api_key) || s(ai.model)) {
    list.push({
      name: "ai",
      baseUrl: normalizeBaseUrl(s(ai.api_url) ?? PRESETS.openai.baseUrl),
      model: s(ai.model) ?? PRESETS.openai.model,
      key: s(ai.api_key) ? (vaultKeySource(s(ai.api_key)!, "ai.api_key") ?? { kind: "literal", value: s(ai.api_key)!, from: "ai.api_key" }) : { kind: "env", name: "OPENAI_API_KEY" },
      temperature: n(ai.temperature),
      maxTokens: n(ai.max_tokens),
      contextWindow: 8192,
      supportsTools: false,
      origin: "ai-block",
    });
  }
  return list;
}

export function presetProvider(name: string): ProviderConfig | undefined {
  const p = PRESETS[name];
  if (!p) return undefined;
  return {
    name,
    baseUrl: p.baseUrl,
    model: p.model,
    key: p.apiKeyEnv ? { kind: "env", name: p.apiKeyEnv } : { kind: "none" },
    contextWindow: p.contextWindow,
    supportsTools: false,
    origin: "preset",
  };
}

export interface ResolveRequest {
  provider?: string;
  model?: string;
}

/**
 * Picks the provider: --provider, OPSTERM_PROVIDER, chat.provider, the only configured one, the
 * `ai:` block. Then OPSTERM_BASE_URL / OPSTERM_API_KEY / OPSTERM_MODEL and --model override fields.
 * Returns undefined when nothing is configured (the caller may probe local servers).
 */
export function resolveProvider(values: Obj, env: Record<string, string | undefined>, request: ResolveRequest = {}, scopeOf: ScopeOf = () => "global"): ProviderConfig | undefined | { unknown: string; known: string[] } {
  const configured = configuredProviders(values);
  const wanted = request.provider ?? s(env.OPSTERM_PROVIDER) ?? defaultProviderName(values);
  let chosen: ProviderConfig | undefined;
  if (wanted) {
    chosen = configured.find((p) => p.name === wanted) ?? presetProvider(wanted);
    if (!chosen) return { unknown: wanted, known: [...configured.map((p) => p.name), ...Object.keys(PRESETS)] };
  } else if (configured.length > 0) {
    // Several named providers and no default: the first one in config.yaml.
    chosen = configured.find((p) => p.origin === "config") ?? configured[0];
  }
  const baseUrl = s(env.OPSTERM_BASE_URL);
  if (!chosen && baseUrl) {
    chosen = { name: "env", baseUrl: "", model: "", key: { kind: "none" }, contextWindow: 8192, supportsTools: false, origin: "env" };
  }
  if (!chosen) return undefined;
  chosen = { ...chosen };
  if (baseUrl) chosen.baseUrl = normalizeBaseUrl(baseUrl);
  const envKey = s(env.OPSTERM_API_KEY);
  if (envKey) chosen.key = { kind: "env", name: "OPSTERM_API_KEY" };
  // OPSTERM_BASE_URL is the user's own choice of URL: any key may go there.
  if (!baseUrl) bindKey(chosen, values, scopeOf);
  const model = request.model ?? s(env.OPSTERM_MODEL);
  if (model) chosen.model = model;
  if (!chosen.model) chosen.model = "default";
  return chosen;
}

/**
 * Withholds the key (in place) when the workspace chose where the request goes and the key is
 * not the workspace's own. A preset's environment variable may still go to that preset's own URL.
 */
function bindKey(p: ProviderConfig, values: Obj, scopeOf: ScopeOf): void {
  if (p.key.kind === "none" || (p.origin !== "config" && p.origin !== "ai-block")) return;
  const raw = obj(obj(values.providers)[p.name]);
  const spelled = (own: string, original: string) => (s(raw[own]) === undefined && s(raw[original]) !== undefined ? original : own);
  const field = p.origin === "ai-block" ? { url: "ai.api_url", preset: undefined, key: "ai.api_key" } : { url: `providers.${p.name}.${spelled("baseUrl", "api_url")}`, preset: `providers.${p.name}.preset`, key: `providers.${p.name}.${spelled("apiKey", "api_key")}` };
  // Either spelling of the URL, set by the workspace, decides where the request goes.
  const urlSetByWorkspace = scopeOf(field.url) === "workspace" || (p.origin === "config" && [`providers.${p.name}.baseUrl`, `providers.${p.name}.api_url`].some((k) => scopeOf(k) === "workspace"));
  const presetSetByWorkspace = field.preset !== undefined && scopeOf(field.preset) === "workspace";
  if (!urlSetByWorkspace && !presetSetByWorkspace) return;
  if (p.key.kind === "literal" && scopeOf(field.key) === "workspace") return;
  const entry = raw;
  const preset = PRESETS[s(entry.preset) ?? p.name];
  const presetOwnKey = !urlSetByWorkspace && p.key.kind === "env" && p.key.name === preset?.apiKeyEnv && !s(entry.apiKeyEnv);
  if (presetOwnKey) return;
  const what = urlSetByWorkspace ? field.url : field.preset!;
  p.keyWithheld = `the workspace sets ${what}, so the key from ${describeKey(p.key)} is not sent to ${p.baseUrl}`;
  p.key = { kind: "none" };
}

function describeKey(key: KeySource): string {
  switch (key.kind) {
    case "literal":
      return `${key.from} in the global config`;
    case "env":
      return `the environment variable ${key.name}`;
    case "cmd":
      return "apiKeyCmd";
    default:
      return "nowhere";
  }
}

/** A literal key or one from the environment, without running anything (for the redactor). */
export function cheapKeys(values: Obj, env: Record<string, string | undefined>): string[] {
  const keys = new Set<string>();
  for (const p of configuredProviders(values)) {
    if (p.key.kind === "literal") keys.add(p.key.value);
    if (p.key.kind === "env" && s(env[p.key.name])) keys.add(env[p.key.name]!);
  }
  if (s(env.OPSTERM_API_KEY)) keys.add(env.OPSTERM_API_KEY!);
  return [...keys].filter((k) => k.length >= 6);
}
