/**
 * The vault plugin: secrets sealed in vault.enc (scrypt + XSalsa20-Poly1305), the `vault`
 * commands, and the "vault" service that resolves `${vault:NAME}` for exec command lines, put
 * contents and API keys. Every value this process decrypts is answered to `secretValues`, so the
 * redactor keeps it out of audit, history and model requests.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { definePlugin, UsageError, type PluginContext } from "../../src/kernel/index.ts";
import { vaultCommands } from "./commands.ts";
import type { VaultStore } from "./session.ts";
import "./types.ts";

const REF = "${vault:";

/** The store this plugin provided in the invocation the hook runs in. */
function storeOf(ctx: PluginContext): VaultStore | undefined {
  return ctx.tryUse("vault") as VaultStore | undefined;
}

/**
 * The store, loaded on first use: tweetnacl and the crypto code stay out of startup, and a
 * command line without a reference never loads them at all.
 */
function lazyStore(ctx: PluginContext): VaultStore {
  const path = join(ctx.paths.configDir, "vault.enc");
  let loaded: VaultStore | undefined;
  let loading: Promise<VaultStore> | undefined;
  const load = () => (loading ??= import("./session.ts").then((m) => (loaded = m.createVaultStore(ctx))));
  return {
    path,
    exists: async () => existsSync(path),
    list: async (o) => (await load()).list(o),
    get: async (name, o) => (await load()).get(name, o),
    references: async (text) => (text.includes(REF) ? (await load()).references(text) : []),
    checkRefs: async (text) => {
      if (text.includes(REF)) await (await load()).checkRefs(text);
    },
    resolveRefs: async (text, o) => (text.includes(REF) ? (await load()).resolveRefs(text, o) : { text, values: [], names: [] }),
    knownValues: () => loaded?.knownValues() ?? [],
    init: async (o) => (await load()).init(o),
    set: async (entries, o) => (await load()).set(entries, o),
    remove: async (name, o) => (await load()).remove(name, o),
    rekey: async (o) => (await load()).rekey(o),
    close: () => loaded?.close(),
  };
}

export default definePlugin({
  name: "vault",
  apiVersion: 1,
  description: "Encrypted secrets: vault.enc, ${vault:NAME} references, masked everywhere they could leak",
  config: {
    vault: {
      type: "object",
      description: "Vault settings",
      properties: {
        passwordCommand: { type: "array", items: { type: "string" }, globalOnly: true, description: 'Command (argv, no shell) printing the passphrase, e.g. ["pass", "show", "opsterm"]; global config only' },
      },
    },
  },
  commands: vaultCommands,
  hooks: {
    // `${vault:NAME}` in an exec command line: the names are checked before the policy classifies
    // (an unknown one runs nothing); the values go in after approval and the audit intent, for
    // the executor only (the gate masks them in the output).
    async checkAction(action, ctx) {
      if (action.kind === "local" && action.command.includes(REF)) {
        // bash -c would carry the value in its argv, which every user of this machine can read (ps).
        throw new UsageError("A vault reference cannot go into a local command: the value would stand in bash's argv, readable by every user of this machine", {
          code: "E_VAULT_LOCAL",
          hint: "Use it on a server (opsterm exec), or pass it yourself: VAR=$(opsterm vault get NAME) command",
        });
      }
      if (action.kind === "exec") await storeOf(ctx)?.checkRefs(action.command);
    },
    async expandAction(expansion, ctx) {
      const store = storeOf(ctx);
      if (!store || expansion.action.kind !== "exec") return undefined;
      const resolved = await store.resolveRefs(expansion.command, { quote: "shell" });
      return resolved.values.length ? { ...expansion, command: resolved.text, secrets: [...expansion.secrets, ...resolved.values] } : undefined;
    },
    // Every value decrypted in this process: audit, history and chat build their redactors from it.
    secretValues: (_, ctx) => storeOf(ctx)?.knownValues(),
    async resolveSecret(name, ctx) {
      const store = storeOf(ctx);
      if (!store || !(await store.exists())) return undefined;
      try {
        return await store.get(name);
      } catch (error) {
        if ((error as { code?: string }).code === "E_VAULT_UNKNOWN") return undefined;
        throw error;
      }
    },
    async doctor(_, ctx) {
      const store = storeOf(ctx);
      return store && (await import("./doctor.ts")).vaultDoctor(store.path);
    },
  },
  setup(ctx) {
    const store = lazyStore(ctx);
    ctx.provide("vault", store);
    return () => store.close();
  },
});
