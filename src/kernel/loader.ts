/**
 * Loads trusted user plugins. The file is read once, hashed, and imported from those same bytes
 * (a data: URL), so what runs is exactly what was checked: nothing can swap the file in between.
 */
import { READ_LIMITS, readBounded } from "../lib/bounded-read.ts";
import { OpstermError, DeniedError, ConfigError, EXIT, UsageError, DataError, UnavailableError, IoError, TemporaryError, InterruptedError } from "./errors.ts";
import { readTrustStore, sha256, type TrustEntry } from "./manifest.ts";
import { API_VERSION, definePlugin, validatePlugin, type OpstermPlugin } from "./plugin.ts";
import { defineCommand } from "./commands.ts";
import type { KernelFacts } from "./context.ts";

/** What a plugin whose default export is a function receives. */
const pluginApi = Object.freeze({
  apiVersion: API_VERSION,
  definePlugin,
  defineCommand,
  EXIT,
  errors: { OpstermError, UsageError, ConfigError, DataError, UnavailableError, IoError, TemporaryError, DeniedError, InterruptedError },
});

export interface LoadedUserPlugins {
  plugins: { plugin: OpstermPlugin; source: "user"; path: string }[];
  failures: KernelFacts["failures"];
  /** Command names of refused plugins, so invoking one explains why instead of "unknown command". */
  refusedCommands: Map<string, OpstermError>;
  /** Every trusted entry, loaded or not (their recorded command names explain later failures). */
  entries: TrustEntry[];
}

export async function loadUserPlugins(configDir: string): Promise<LoadedUserPlugins> {
  const result: LoadedUserPlugins = { plugins: [], failures: [], refusedCommands: new Map(), entries: [] };
  let entries: TrustEntry[];
  try {
    entries = readTrustStore(configDir).plugins;
    result.entries = entries;
  } catch (error) {
    const e = error as OpstermError;
    result.failures.push({ name: "plugins.json", code: e.code ?? "E_TRUST_STORE", message: e.message, hint: e.hint });
    return result;
  }
  for (const entry of entries) {
    try {
      const plugin = await loadTrusted(entry);
      result.plugins.push({ plugin, source: "user", path: entry.path });
    } catch (error) {
      const e = error instanceof OpstermError ? error : new OpstermError("E_PLUGIN_LOAD", `Plugin "${entry.name}" (${entry.path}) failed to load: ${(error as Error).message}`, { plugin: entry.name });
      result.failures.push({ name: entry.name, code: e.code, message: e.message, hint: e.hint });
      // The group word too: `opsterm deploy` of a refused `deploy run` must not become a question.
      for (const cmd of commandWords(entry.commands)) result.refusedCommands.set(cmd, e);
    }
  }
  return result;
}

/** The words that invoke these commands: each name, and for a group action its group word too. */
export function commandWords(names: string[]): string[] {
  return names.flatMap((n) => (n.includes(" ") ? [n, n.split(" ")[0]] : [n]));
}

async function loadTrusted(entry: TrustEntry): Promise<OpstermPlugin> {
  let bytes: Buffer | undefined;
  let why = "ENOENT";
  try {
    bytes = readBounded(entry.path, { maxBytes: READ_LIMITS.plugin, what: "plugin modules" });
  } catch (error) {
    why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
  if (!bytes) {
    throw new ConfigError("E_PLUGIN_MISSING", `Plugin "${entry.name}": cannot read ${entry.path} (${why})`, {
      plugin: entry.name,
      hint: `Restore the file, or "opsterm plugin remove ${entry.name}"`,
    });
  }
  const actual = sha256(bytes);
  if (actual !== entry.sha256) {
    throw new DeniedError("E_PLUGIN_UNTRUSTED", `Plugin "${entry.name}" was refused: ${entry.path} changed since it was trusted (sha256 ${actual.slice(0, 12)}…, trusted ${entry.sha256.slice(0, 12)}…)`, {
      plugin: entry.name,
      hint: `Review the file, then trust it again with "opsterm plugin add ${entry.path}"`,
    });
  }
  const plugin = await importPluginSource(bytes, entry.path);
  if (plugin.name !== entry.name) {
    throw new DeniedError("E_PLUGIN_RENAMED", `Plugin at ${entry.path} now calls itself "${plugin.name}", trusted as "${entry.name}"`, {
      plugin: entry.name,
      hint: `Trust it again with "opsterm plugin add ${entry.path}"`,
    });
  }
  return plugin;
}

/** Evaluates a plugin module from its bytes and returns the validated plugin object. */
export async function importPluginSource(bytes: Uint8Array, path: string): Promise<OpstermPlugin> {
  const url = `data:text/javascript;base64,${Buffer.from(bytes).toString("base64")}`;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new OpstermError("E_PLUGIN_LOAD", `${path} could not be loaded: ${(error as Error).message.split("\n")[0]}`, {
      hint: "A plugin must be one self-contained ES module (no imports other than node: built-ins)",
    });
  }
  let exported = mod.default;
  if (typeof exported === "function") {
    try {
      exported = await (exported as (api: typeof pluginApi) => unknown)(pluginApi);
    } catch (error) {
      throw new OpstermError("E_PLUGIN_LOAD", `${path}: its default export function threw: ${(error as Error).message}`);
    }
  }
  return validatePlugin(exported, path);
}
