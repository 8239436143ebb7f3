/**
 * `opsterm doctor` findings for chat: which provider a question would go to, without sending
 * anything (a missing provider is a warning: everything but the AI works without one).
 */
import type { DoctorFinding, PluginContext } from "../../src/kernel/index.ts";
import { resolveProvider, type ProviderConfig } from "./config.ts";

export async function chatDoctor(ctx: PluginContext): Promise<DoctorFinding[]> {
  const config = await ctx.config();
  const chosen = resolveProvider(config.values, ctx.env, {}, config.scopeOf);
  if (chosen === undefined) {
    return [{ kind: "check", name: "ai provider", status: "warn", detail: "none configured (a local ollama or llama.cpp server is probed when you ask)", hint: "See \"opsterm help chat\": providers.<name> in config.yaml, or OPSTERM_BASE_URL / OPSTERM_MODEL" }];
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
    await answers(chosen, ctx.env),
  ];
}

/**
 * Does the provider answer? One GET /models with a short deadline (OPSTERM_DOCTOR_TIMEOUT_MS,
 * default 3000). The key goes along only when it is at hand without running anything or unlocking
 * the vault (a literal or an environment variable); any HTTP answer proves the server is there.
 */
async function answers(p: ProviderConfig, env: Record<string, string | undefined>): Promise<DoctorFinding> {
  const timeoutMs = Number(env.OPSTERM_DOCTOR_TIMEOUT_MS) > 0 ? Number(env.OPSTERM_DOCTOR_TIMEOUT_MS) : 3000;
  let url: URL;
  try {
    url = new URL(`${p.baseUrl}/models`);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    return { kind: "check", name: "ai answers", status: "fail", detail: `"${p.baseUrl}" is not an http:// or https:// URL`, hint: "Fix the provider's baseUrl (or OPSTERM_BASE_URL)" };
  }
  const key = p.key.kind === "literal" ? p.key.value : p.key.kind === "env" ? env[p.key.name] : undefined;
  const started = Date.now();
  try {
    const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    const ms = Date.now() - started;
    if (res.status === 401 || res.status === 403) {
      return { kind: "check", name: "ai answers", status: "warn", detail: `${url.host} answers, but refuses ${key ? "the key" : "a request without a key"} (HTTP ${res.status}, ${ms} ms)`, hint: "Check the API key for this provider" };
    }
    return { kind: "check", name: "ai answers", status: "ok", detail: `${url.host} answered in ${ms} ms (HTTP ${res.status})` };
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string }; message?: string };
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? (e.cause as { message?: string } | undefined)?.message ?? e.message ?? String(error));
    return { kind: "check", name: "ai answers", status: "warn", detail: `${p.baseUrl} does not answer: ${why}`, hint: "Is the server running and the URL right? Everything but the AI works without it" };
  }
}
