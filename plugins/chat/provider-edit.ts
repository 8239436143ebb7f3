/**
 * `opsterm provider add|rm|default`: the original OpsTerm's provider commands, writing opsterm's
 * own keys (`providers.NAME.{baseUrl, model, apiKey|apiKeyEnv}`, `chat.provider`) into the global
 * config. An API key given on the command line goes into the vault when there is one.
 */
import { join } from "node:path";
import { defineCommand, UsageError, type CommandContext } from "../../src/kernel/index.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Provider names become YAML keys and vault names: keep them boring. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

function checkName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`Invalid provider name "${name}": use letters, digits, "_", ".", "-" (not first), at most 64`, { code: "E_PROVIDER_NAME" });
  return name;
}

/** The vault name for a provider's key, e.g. `openai_api_key`. */
export function vaultNameFor(provider: string): string {
  return `${provider.replace(/[^A-Za-z0-9_.-]/g, "_")}_api_key`;
}

/**
 * Where a key typed on the command line (or read from an old config) is kept: in the vault when
 * one exists (the config gets `${vault:NAME}`), else literally in config.yaml (mode 0600).
 */
export async function keepApiKey(ctx: Pick<CommandContext, "tryUse">, provider: string, key: string): Promise<{ value: string; where: "vault" | "config"; vaultName?: string }> {
  const vault = ctx.tryUse("vault");
  if (vault && (await vault.exists())) {
    const name = vaultNameFor(provider);
    await vault.set([{ name, value: key, note: `API key of provider ${provider}` }]);
    return { value: `\${vault:${name}}`, where: "vault", vaultName: name };
  }
  return { value: key, where: "config" };
}

const configPath = (ctx: CommandContext) => join(ctx.paths.configDir, "config.yaml");

/** The name in effect as the default, from the global file's own keys (chat.provider, then default_provider). */
function defaultIn(data: Obj): { key: "chat.provider" | "default_provider"; name: string } | undefined {
  const chat = str(obj(data.chat).provider);
  if (chat) return { key: "chat.provider", name: chat };
  const original = str(data.default_provider);
  return original ? { key: "default_provider", name: original } : undefined;
}

const add = defineCommand({
  name: "provider add",
  description: "Add or update a provider in the global config (the original OpsTerm's flags work: --api-key, --api-url, --model)",
  usage: "<name>",
  options: [
    { flags: "--api-url <url>", description: "API URL (a base URL, or the full …/chat/completions URL)" },
    { flags: "--base-url <url>", description: "Same as --api-url" },
    { flags: "--model <model>", description: "Model name" },
    { flags: "--preset <preset>", description: "Start from a preset", choices: ["openai", "deepseek", "openrouter", "groq", "ollama", "llamacpp"] },
    { flags: "--api-key <key>", description: "API key (visible to ps: prefer --api-key-env, or pipe it with --api-key -); goes into the vault when there is one" },
    { flags: "--api-key-env <var>", description: "Name of the environment variable holding the key" },
    { flags: "--default", description: "Make it the default provider" },
  ],
  examples: [
    "opsterm provider add deepseek --api-url https://api.deepseek.com/v1 --model deepseek-chat --api-key-env DEEPSEEK_API_KEY",
    "pass show openai | opsterm provider add openai --api-key -",
    "opsterm provider add local --preset ollama --model qwen2.5 --default",
  ],
  async action(args, ctx) {
    const name = checkName(String(args.name));
    const { PRESETS } = await import("./config.ts");
    const url = str(args.apiUrl) ?? str(args.baseUrl);
    if (url !== undefined && !/^https?:\/\/[^\s/]+/i.test(url)) {
      throw new UsageError(`--api-url must be an http(s) URL, got "${url}"`, { code: "E_PROVIDER_URL", hint: "e.g. --api-url https://api.openai.com/v1" });
    }
    const preset = str(args.preset);
    if (preset && !(preset in PRESETS)) throw new UsageError(`Unknown preset "${preset}"`, { code: "E_PROVIDER_NAME", hint: `Presets: ${Object.keys(PRESETS).join(", ")}` });
    if (args.apiKey !== undefined && args.apiKeyEnv !== undefined) throw new UsageError("Give --api-key or --api-key-env, not both");
    let key: string | undefined;
    if (args.apiKey !== undefined) {
      // The argument parser reads a lone "-" (or no value) as true, which reaches here as "true":
      // no provider's key is that word, so it means "from stdin" too.
      key = String(args.apiKey) === "true" ? "-" : String(args.apiKey);
      if (key === "-") {
        if (ctx.io.isTTY.stdin) throw new UsageError("--api-key - reads the key from stdin, which is a terminal", { hint: "Pipe it: pass show openai | opsterm provider add openai --api-key -" });
        const chunks: Buffer[] = [];
        for await (const chunk of ctx.io.stdin as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
        key = Buffer.concat(chunks).toString("utf8").trim();
      } else {
        ctx.io.warn("an API key on the command line is visible to other users (ps) and kept in your shell history; prefer --api-key-env VAR or --api-key - with the key on stdin");
      }
      if (!key) throw new UsageError("The API key is empty");
    }
    const { editConfigFile } = await import("../../src/lib/config-edit.ts");
    const path = configPath(ctx);
    let created = false;
    let madeDefault = false;
    let kept: Awaited<ReturnType<typeof keepApiKey>> | undefined;
    // The vault asks for its passphrase before the config lock is taken.
    if (key !== undefined) kept = await keepApiKey(ctx, name, key);
    await editConfigFile(path, ctx.configSchema(), ({ data, doc }) => {
      const existing = obj(obj(data.providers)[name]);
      created = Object.keys(existing).length === 0;
      if (created && !url && !preset && !(name in PRESETS)) {
        throw new UsageError(`A new provider "${name}" needs --api-url (or --preset)`, { code: "E_PROVIDER_URL", hint: `opsterm provider add ${name} --api-url https://…/v1 --model <model>` });
      }
      const set = (field: string, value: unknown) => doc.setIn(["providers", name, field], value);
      if (!doc.hasIn(["providers"]) || doc.getIn(["providers"]) === null) doc.set("providers", doc.createNode({}));
      if (created) doc.setIn(["providers", name], doc.createNode({}));
      if (url !== undefined) {
        set(existing.api_url !== undefined && existing.baseUrl === undefined ? "api_url" : "baseUrl", url);
      }
      if (preset) set("preset", preset);
      if (args.model !== undefined) set("model", String(args.model));
      if (kept) {
        for (const f of ["api_key", "apiKeyEnv", "apiKeyCmd"]) if (existing[f] !== undefined) doc.deleteIn(["providers", name, f]);
        set("apiKey", kept.value);
      }
      if (args.apiKeyEnv !== undefined) {
        for (const f of ["api_key", "apiKey", "apiKeyCmd"]) if (existing[f] !== undefined) doc.deleteIn(["providers", name, f]);
        set("apiKeyEnv", String(args.apiKeyEnv));
      }
      const current = defaultIn(data);
      if (args.default || (!current && created && Object.keys(obj(data.providers)).length === 0)) {
        if (current?.key === "default_provider") doc.set("default_provider", name);
        else doc.setIn(["chat", "provider"], name);
        madeDefault = current?.name !== name;
      }
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ name, created, default: madeDefault, key: kept?.where ?? (args.apiKeyEnv ? "env" : null), vaultName: kept?.vaultName ?? null, file: path }));
    ctx.io.out(`${created ? "Added" : "Updated"} provider ${name} in ${path}`);
    if (kept?.where === "vault") ctx.io.out(`  the API key is in the vault as ${kept.vaultName}`);
    if (kept?.where === "config") ctx.io.out(ctx.io.style.dim("  the API key is in config.yaml (mode 0600); \"opsterm vault init\" then add it again to keep it encrypted"));
    if (madeDefault) ctx.io.out(`  ${name} is now the default provider`);
  },
});

const rm = defineCommand({
  name: "provider rm",
  description: "Remove a provider from the global config (a vault value it used stays in the vault)",
  usage: "<name>",
  async action(args, ctx) {
    const name = String(args.name);
    const { editConfigFile, deletePruning } = await import("../../src/lib/config-edit.ts");
    const path = configPath(ctx);
    let newDefault: string | undefined;
    let wasDefault = false;
    await editConfigFile(path, ctx.configSchema(), ({ data, doc }) => {
      const providers = obj(data.providers);
      if (!(name in providers)) {
        throw new UsageError(`Provider "${name}" is not in ${path}`, { code: "E_PROVIDER_UNKNOWN", hint: '"opsterm provider list" shows the providers and where they come from' });
      }
      deletePruning(doc, ["providers", name]);
      const current = defaultIn(data);
      if (current?.name === name) {
        wasDefault = true;
        // As the original did: the first remaining provider becomes the default.
        newDefault = Object.keys(providers).find((p) => p !== name);
        if (newDefault) doc.setIn(current.key.split("."), newDefault);
        else deletePruning(doc, current.key.split("."));
      }
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ name, removed: true, default: wasDefault ? (newDefault ?? null) : undefined, file: path }));
    ctx.io.out(`Removed provider ${name} from ${path}`);
    if (wasDefault) ctx.io.out(newDefault ? `  ${newDefault} is now the default provider` : "  no default provider is set now");
  },
});

const setDefault = defineCommand({
  name: "provider default",
  description: "Make a provider (configured, or a preset) the default",
  usage: "<name>",
  aliases: ["provider set-default"],
  async action(args, ctx) {
    const name = String(args.name);
    const { configuredProviders, PRESETS } = await import("./config.ts");
    const known = [...configuredProviders((await ctx.config()).values).map((p) => p.name), ...Object.keys(PRESETS)];
    if (!known.includes(name)) {
      const { closest } = await import("../../src/lib/schema.ts");
      const guess = closest(name, known);
      throw new UsageError(`Unknown provider "${name}"${guess ? `, did you mean "${guess}"?` : ""}`, { code: "E_PROVIDER_UNKNOWN", hint: `Known: ${known.join(", ")}` });
    }
    const { editConfigFile } = await import("../../src/lib/config-edit.ts");
    const path = configPath(ctx);
    await editConfigFile(path, ctx.configSchema(), ({ data, doc }) => {
      const current = defaultIn(data);
      if (current?.key === "default_provider") doc.set("default_provider", name);
      else doc.setIn(["chat", "provider"], name);
    });
    if (ctx.json) return void ctx.io.out(JSON.stringify({ default: name, file: path }));
    ctx.io.out(`${name} is the default provider  ${ctx.io.style.dim(path)}`);
  },
});

export const providerEditCommands = [add, rm, setDefault];
