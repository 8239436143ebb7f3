/**
 * `providers.x.apiKey: ${vault:NAME}`: recognised as a vault key (never sent as a literal), and
 * fetched only when the global config decides where it goes.
 */
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../../src/kernel/index.ts";
import { configuredProviders } from "../../../plugins/chat/config.ts";
import { resolveVaultKey, vaultKeySource } from "../../../plugins/chat/vault-key.ts";

function config(origins: [key: string, scope: "global" | "workspace"][]): LoadedConfig {
  const scopes = new Map(origins);
  return { values: {}, sources: [], origins: [], ignored: [], get: () => undefined, scopeOf: (key) => scopes.get(key) };
}

function ctx(origins: [string, "global" | "workspace"][], values: Record<string, string> = { openai: "sk-from-the-vault" }) {
  const asked: string[] = [];
  const vault = {
    async get(name: string) {
      asked.push(name);
      if (!(name in values)) throw Object.assign(new Error("unknown"), { code: "E_VAULT_UNKNOWN" });
      return values[name];
    },
  };
  return { asked, ctx: { config: async () => config(origins), tryUse: ((name: string) => (name === "vault" ? vault : undefined)) as never } };
}

describe("vaultKeySource()", () => {
  it("recognises a whole-value reference only", () => {
    expect(vaultKeySource("${vault:openai}", "providers.openai.apiKey")).toEqual({ kind: "vault", name: "openai", from: "providers.openai.apiKey" });
    expect(vaultKeySource("sk-${vault:openai}", "x.apiKey")).toBeUndefined();
    expect(vaultKeySource("sk-literal", "x.apiKey")).toBeUndefined();
  });

  it("configuredProviders() turns apiKey and ai.api_key references into vault sources, not literals", () => {
    const list = configuredProviders({ providers: { openai: { apiKey: "${vault:openai}" } }, ai: { api_key: "${vault:legacy}" } });
    expect(list.map((p) => p.key)).toEqual([
      { kind: "vault", name: "openai", from: "providers.openai.apiKey" },
      { kind: "vault", name: "legacy", from: "ai.api_key" },
    ]);
  });
});

describe("resolveVaultKey()", () => {
  const source = { kind: "vault" as const, name: "openai", from: "providers.openai.apiKey" };

  it("fetches the value when the key and its destination come from the global config", async () => {
    const t = ctx([["providers.openai.apiKey", "global"], ["providers.openai.baseUrl", "global"]]);
    expect(await resolveVaultKey(t.ctx, source)).toBe("sk-from-the-vault");
  });

  it.each([
    ["the reference itself", "providers.openai.apiKey"],
    ["the baseUrl", "providers.openai.baseUrl"],
    ["the preset", "providers.openai.preset"],
  ])("refuses (78) without touching the vault when %s comes from the workspace", async (_, key) => {
    const t = ctx([["providers.openai.apiKey", "global"], [key, "workspace"]]);
    await expect(resolveVaultKey(t.ctx, source)).rejects.toMatchObject({ code: "E_CHAT_VAULT_SCOPE", exitCode: 78, message: expect.stringContaining(key) });
    expect(t.asked).toEqual([]);
  });

  it("the ai: block's api_url counts as its destination", async () => {
    const t = ctx([["ai.api_key", "global"], ["ai.api_url", "workspace"]]);
    await expect(resolveVaultKey(t.ctx, { kind: "vault", name: "openai", from: "ai.api_key" })).rejects.toMatchObject({ code: "E_CHAT_VAULT_SCOPE" });
  });

  it("a name the vault does not hold is a configuration error naming the key", async () => {
    const t = ctx([["providers.openai.apiKey", "global"]], {});
    await expect(resolveVaultKey(t.ctx, source)).rejects.toMatchObject({ code: "E_CHAT_VAULT_KEY", exitCode: 78, message: 'providers.openai.apiKey refers to "openai", which is not in the vault' });
  });
});
