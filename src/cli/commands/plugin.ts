/**
 * `opsterm plugin add|list|remove`: the trust store's user interface.
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand, type CommandSpec } from "../../kernel/commands.ts";
import { DataError, DeniedError, UsageError } from "../../kernel/errors.ts";
import { READ_LIMITS, readBounded } from "../../lib/bounded-read.ts";
import { importPluginSource } from "../../kernel/loader.ts";
import { readTrustStore, sha256, updateTrustStore, type TrustEntry } from "../../kernel/manifest.ts";
import { closest } from "../../lib/schema.ts";

const add = defineCommand({
  name: "plugin add",
  groupDescription: "Add, list and remove user plugins",
  description: "Trust a plugin file: record its path and SHA-256, so a changed file is refused",
  usage: "<path>",
  options: [{ flags: "--allow-imports", description: "Trust a module that imports other files or packages (changes to those are NOT noticed)" }],
  examples: ["opsterm plugin add ~/opsterm-plugins/hello.mjs", "opsterm plugin add ./hello.mjs   # again after editing it, to re-trust"],
  async action(args, ctx) {
    const given = resolve(ctx.runtime.cwd(), String(args.path));
    let path: string;
    let bytes: Buffer | undefined;
    try {
      path = realpathSync(given);
      bytes = readBounded(path, { maxBytes: READ_LIMITS.plugin, errorClass: DataError, what: "plugin modules" });
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith("E_FILE_")) throw error;
      throw new UsageError(`Cannot read plugin file ${given} (${(error as NodeJS.ErrnoException).code})`, { code: "E_PLUGIN_MISSING", hint: "Give the path of a .js or .mjs ES module" });
    }
    if (!bytes) throw new UsageError(`Cannot read plugin file ${given} (ENOENT)`, { code: "E_PLUGIN_MISSING", hint: "Give the path of a .js or .mjs ES module" });
    if (!args.allowImports) await refuseForeignImports(bytes, path);
    const plugin = await importPluginSource(bytes, path);
    const commands = (plugin.commands ?? []).map((c) => c.name);
    for (const name of commands) {
      const owner = ctx.registry.get(name);
      if (owner && owner.plugin !== plugin.name) {
        throw new DataError("E_COMMAND_CONFLICT", `Plugin "${plugin.name}" defines command "${name}", which "${owner.plugin}" already has`, { hint: `Rename the command in ${path}` });
      }
    }
    if (ctx.kernel.plugins.some((p) => p.name === plugin.name && p.source === "builtin")) {
      throw new DataError("E_PLUGIN_DUPLICATE", `"${plugin.name}" is the name of a built-in plugin`, { hint: `Rename the plugin in ${path}` });
    }
    const hash = sha256(bytes);
    let clash: TrustEntry | undefined;
    await updateTrustStore(ctx.paths.configDir, (s) => {
      clash = s.plugins.find((p) => p.name === plugin.name && p.path !== path);
      s.plugins = s.plugins.filter((p) => p.name !== plugin.name && p.path !== path);
      s.plugins.push({ name: plugin.name, path, sha256: hash, commands, addedAt: new Date().toISOString() });
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ name: plugin.name, path, sha256: hash, commands, replaced: clash?.path }));
    else {
      ctx.io.out(`${ctx.io.style.green("trusted")} plugin "${plugin.name}" from ${path}`);
      ctx.io.out(`  sha256 ${hash}`);
      if (commands.length) ctx.io.out(`  commands: ${commands.join(", ")}`);
      if (clash) ctx.io.out(`  (replaces the plugin of the same name at ${clash.path})`);
    }
  },
});

/** The pin covers one file: a module that loads others is refused unless --allow-imports. */
async function refuseForeignImports(bytes: Buffer, path: string): Promise<void> {
  const { foreignImports } = await import("../../kernel/plugin-imports.ts");
  let found: ReturnType<typeof foreignImports>;
  try {
    found = foreignImports(bytes.toString("utf8"));
  } catch (error) {
    throw new DataError("E_PLUGIN_SYNTAX", `${path} is not a valid ES module: ${(error as Error).message.split("\n")[0]}`, { hint: "A plugin is one ES module (.mjs or .js)" });
  }
  if (found.length === 0) return;
  const first = found[0];
  const more = found.length > 1 ? ` (and ${found.length - 1} more: ${found.slice(1, 4).map((f) => `${f.specifier} at line ${f.line}`).join(", ")})` : "";
  throw new DeniedError("E_PLUGIN_IMPORTS", `${path}:${first.line} loads ${first.specifier}: ${first.why}; the trust pin covers only this one file${more}`, {
    hint: "Bundle the plugin into one file (e.g. esbuild --bundle --format=esm --platform=node), or pass --allow-imports to trust it anyway: changes to what it imports are then NOT noticed",
  });
}

interface Row {
  name: string;
  source: "builtin" | "user";
  status: "loaded" | "trusted" | "changed" | "missing" | "failed";
  path?: string;
  sha256?: string;
  commands: string[];
  problem?: string;
}

const list = defineCommand({
  name: "plugin list",
  description: "List plugins: built-in, trusted, and refused (changed or missing files)",
  async action(_args, ctx) {
    const store = readTrustStore(ctx.paths.configDir);
    const failures = new Map(ctx.kernel.failures.map((f) => [f.name, f]));
    const registered = ctx.registry.all();
    const rows: Row[] = [
      ...ctx.kernel.plugins.filter((p) => p.source === "builtin").map((p): Row => ({ name: p.name, source: "builtin", status: "loaded", commands: commandsOf(registered, p.name) })),
      ...store.plugins.map((e): Row => {
        const failure = failures.get(e.name);
        const status = !failure ? "trusted" : failure.code === "E_PLUGIN_UNTRUSTED" ? "changed" : failure.code === "E_PLUGIN_MISSING" ? "missing" : "failed";
        return { name: e.name, source: "user", status, path: e.path, sha256: e.sha256, commands: e.commands, problem: failure?.message };
      }),
    ];
    for (const f of ctx.kernel.failures) {
      if (!rows.some((r) => r.name === f.name)) rows.push({ name: f.name, source: "builtin", status: "failed", commands: [], problem: f.message });
    }
    const healthy = (r: Row) => r.status === "loaded" || r.status === "trusted";
    const code = rows.every(healthy) ? 0 : 1;
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ plugins: rows }));
      return code;
    }
    const s = ctx.io.style;
    for (const r of rows) {
      const mark = healthy(r) ? s.green(r.status) : s.red(r.status);
      ctx.io.out(`${r.name.padEnd(14)} ${mark.padEnd(s.enabled ? 17 : 8)} ${r.source === "user" ? r.path : "built-in"}${r.commands.length ? s.dim(`  [${r.commands.join(", ")}]`) : ""}`);
      if (r.problem) ctx.io.out(`  ${s.dim(r.problem)}`);
    }
    return code;
  },
});

const remove = defineCommand({
  name: "plugin remove",
  description: "Stop trusting a user plugin (its file is left alone)",
  usage: "<name>",
  aliases: ["plugin rm"],
  async action(args, ctx) {
    const name = String(args.name);
    const store = readTrustStore(ctx.paths.configDir);
    const entry = store.plugins.find((p) => p.name === name || p.path === resolve(ctx.runtime.cwd(), name));
    if (!entry) {
      const guess = closest(name, store.plugins.map((p) => p.name));
      throw new UsageError(`No user plugin named "${name}"${guess ? `, did you mean "${guess}"?` : ""}`, { code: "E_PLUGIN_UNKNOWN", hint: `"opsterm plugin list" shows them` });
    }
    await updateTrustStore(ctx.paths.configDir, (s) => {
      s.plugins = s.plugins.filter((p) => p.name !== entry.name);
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ removed: entry.name, path: entry.path }));
    else ctx.io.out(`removed plugin "${entry.name}" (${entry.path} is untouched)`);
  },
});

function commandsOf(all: { name: string; plugin: string }[], plugin: string): string[] {
  return all.filter((c) => c.plugin === plugin).map((c) => c.name);
}

export const pluginCommands: CommandSpec[] = [add, list, remove];
