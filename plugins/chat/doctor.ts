/**
 * `opsterm doctor` findings for chat: which provider a question would go to, without sending
 * anything (a missing provider is a warning: everything but the AI works without one).
 */
import type { DoctorFinding, PluginContext } from "../../src/kernel/index.ts";
import { resolveProvider } from "./config.ts";

export async function chatDoctor(ctx: PluginContext): Promise<DoctorFinding[]> {
  const config = await ctx.config();
  const chosen = resolveProvider(config.values, ctx.env, {}, config.scopeOf);
  if (chosen === undefined) {
    return [{ kind: "check", name: "ai provider", status: "warn", detail: "none configured (a local ollama or llama.cpp server is probed when you ask)", hint: "See docs/chat.md: providers.<name> in config.yaml, or OPSTERM_BASE_URL / OPSTERM_MODEL" }];
  }
  if ("unknown" in chosen) {
    return [{ kind: "check", name: "ai provider", status: "fail", detail: `the default provider "${chosen.unknown}" is not configured`, hint: `Known: ${chosen.known.join(", ")}` }];
  }
  const missingKey = chosen.key.kind === "env" && !ctx.env[chosen.key.name];
  if (chosen.keyWithheld) {
    return [{ kind: "check", name: "ai provider", status: "warn", detail: `${chosen.name}: ${chosen.model} at ${chosen.baseUrl}; ${chosen.keyWithheld}`, hint: "A key is sent only to a base URL set in the same config file as the key" }];
  }
  return [
    {
      kind: "check",
      name: "ai provider",
      status: missingKey ? "warn" : "ok",
      detail: `${chosen.name}: ${chosen.model} at ${chosen.baseUrl}${missingKey ? ` (${chosen.key.kind === "env" ? chosen.key.name : ""} is not set)` : ""}`,
      hint: missingKey ? "Export the API key variable, or set apiKeyCmd for this provider" : undefined,
    },
  ];
}
