import { describe, expect, it } from "vitest";
import { validate } from "../../../src/lib/schema.ts";
import { CHAT_CONFIG, resolveProvider, type ProviderConfig } from "../../../plugins/chat/config.ts";

const resolve = (values: Record<string, unknown>, env: Record<string, string> = {}, req = {}) => resolveProvider(values, env, req) as ProviderConfig;

describe("resolveProvider()", () => {
  it("honours the original ai: block", () => {
    const p = resolve({ ai: { api_url: "https://api.example.com/v1/chat/completions", api_key: "k-123456", model: "m1", temperature: 0.2, max_tokens: 300 } });
    expect(p).toMatchObject({ name: "ai", baseUrl: "https://api.example.com/v1", model: "m1", temperature: 0.2, maxTokens: 300, key: { kind: "literal", value: "k-123456" } });
  });

  it("fills a named provider from its preset, and the default from chat.provider", () => {
    const values = { providers: { groq: { apiKeyEnv: "MY_GROQ" }, local: { preset: "ollama", model: "qwen2.5" } }, chat: { provider: "local" } };
    expect(resolve(values)).toMatchObject({ name: "local", baseUrl: "http://127.0.0.1:11434/v1", model: "qwen2.5", key: { kind: "none" } });
    expect(resolve(values, {}, { provider: "groq" })).toMatchObject({ baseUrl: "https://api.groq.com/openai/v1", key: { kind: "env", name: "MY_GROQ" } });
  });

  it("applies OPSTERM_* overrides and --model, and uses a preset by name", () => {
    const env = { OPSTERM_PROVIDER: "deepseek", OPSTERM_BASE_URL: "http://127.0.0.1:9/v1/", OPSTERM_API_KEY: "x-secret", OPSTERM_MODEL: "env-model" };
    expect(resolve({}, env)).toMatchObject({ name: "deepseek", baseUrl: "http://127.0.0.1:9/v1", model: "env-model", key: { kind: "env", name: "OPSTERM_API_KEY" } });
    expect(resolve({}, env, { model: "flag-model" }).model).toBe("flag-model");
  });

  it("reports an unknown provider and returns nothing when nothing is configured", () => {
    expect(resolveProvider({}, { OPSTERM_PROVIDER: "opnai" })).toMatchObject({ unknown: "opnai" });
    expect(resolveProvider({}, {})).toBeUndefined();
  });

  it("CHAT_CONFIG rejects unknown provider keys with a suggestion", () => {
    const issues = validate({ providers: { x: { baseURL: "http://h/v1" } } }, { type: "object", properties: CHAT_CONFIG });
    expect(issues[0].message).toContain('did you mean "baseUrl"');
    expect(validate({ providers: { x: { apiKeyCmd: ["pass", "show", "x"] } }, chat: { provider: "x" } }, { type: "object", properties: CHAT_CONFIG })).toEqual([]);
  });
});

describe("the original OpsTerm's config.yaml, read directly", () => {
  // What the original's `init` and `provider add deepseek …` + `provider default deepseek` write.
  const original = {
    default_provider: "deepseek",
    providers: {
      default: { api_key: "", api_url: "https://api.deepseek.com/v1/chat/completions", model: "deepseek-chat" },
      deepseek: { api_key: "sk-orig-123456", api_url: "https://api.deepseek.com/v1/chat/completions", model: "deepseek-chat" },
    },
    ai: { temperature: 0.3, max_tokens: 1024, response_style: "concise", system_prompt: "" },
  };

  it("validates against the schema and picks default_provider with api_url / api_key", () => {
    expect(validate(original, { type: "object", properties: CHAT_CONFIG })).toEqual([]);
    expect(resolve(original)).toMatchObject({ name: "deepseek", baseUrl: "https://api.deepseek.com/v1", model: "deepseek-chat", temperature: 0.3, maxTokens: 1024, key: { kind: "literal", value: "sk-orig-123456", from: "providers.deepseek.api_key" } });
  });

  it("lets chat.provider win over default_provider, and ai.provider name a provider when nothing else does", () => {
    expect(resolve({ ...original, chat: { provider: "default" } }).name).toBe("default");
    const { default_provider: _, ...noDefault } = original;
    expect(resolve({ ...noDefault, ai: { ...original.ai, provider: "deepseek" } }).name).toBe("deepseek");
    // A label that names no provider is only a label.
    expect(resolve({ ...noDefault, ai: { ...original.ai, provider: "opencode-zen" } }).name).toBe("default");
  });

  it("adds ai.system_prompt to the system prompt, after opsterm's own rules", async () => {
    const { systemPrompt } = await import("../../../plugins/chat/system-prompt.ts");
    const { userSystemPrompt } = await import("../../../plugins/chat/config.ts");
    expect(userSystemPrompt(original)).toBeUndefined();
    const text = systemPrompt({}, undefined, userSystemPrompt({ ai: { system_prompt: "Answer in Indonesian." } }));
    expect(text).toContain("fenced code block");
    expect(text.endsWith("The user's own instructions:\nAnswer in Indonesian.")).toBe(true);
  });

  it("withholds a global key when a workspace sets the provider's api_url", () => {
    const scopeOf = (key: string) => (key === "providers.deepseek.api_url" ? "workspace" : "global") as "global" | "workspace";
    const p = resolveProvider(original, {}, {}, scopeOf) as ProviderConfig;
    expect(p.key).toEqual({ kind: "none" });
    expect(p.keyWithheld).toContain("providers.deepseek.api_url");
  });
});
