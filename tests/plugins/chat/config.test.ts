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
