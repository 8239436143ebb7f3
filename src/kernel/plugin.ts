/**
 * The plugin contract: a plain object with a name, built by the identity helper definePlugin().
 */
import type { HookHandlers } from "./hooks.ts";
import type { CommandSpec } from "./commands.ts";
import type { PluginContext } from "./context.ts";
import type { SchemaNode } from "../lib/schema.ts";
import { OpstermError } from "./errors.ts";

/** The plugin API version this kernel speaks. */
export const API_VERSION = 1;

export type Teardown = () => void | Promise<void>;

export interface OpstermPlugin {
  /** Unique, lower-case: `[a-z][a-z0-9-]*`. */
  name: string;
  apiVersion: typeof API_VERSION;
  description?: string;
  /** Plugin tier: `pre` runs first (policy, audit), `post` last. */
  enforce?: "pre" | "post";
  commands?: CommandSpec[];
  hooks?: HookHandlers;
  /** Top-level config keys this plugin owns, with their schema (validated strictly). */
  config?: Record<string, SchemaNode>;
  /** Runs once per CLI invocation; may return a teardown (run in reverse order at exit). */
  setup?: (ctx: PluginContext) => void | Teardown | Promise<void | Teardown>;
}

/**
 * Identity helper that gives plugin authors type checking.
 * @example
 * export default definePlugin({ name: "hello", apiVersion: 1, commands: [{ name: "hello", description: "Say hi", action: () => console.log("hi") }] });
 */
export function definePlugin<P extends OpstermPlugin>(plugin: P): P {
  return plugin;
}

const TIER = { pre: 0, normal: 1, post: 2 } as const;

export function tierOf(plugin: OpstermPlugin): number {
  return TIER[plugin.enforce ?? "normal"];
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Checks the shape of a plugin object, typically one loaded from a user's file. */
export function validatePlugin(value: unknown, source: string): OpstermPlugin {
  const fail = (why: string) =>
    new OpstermError("E_PLUGIN_INVALID", `${source} is not a valid opsterm plugin: ${why}`, {
      hint: "A plugin's default export is { name, apiVersion: 1, commands?, hooks?, setup? } (see README \"Writing plugins\")",
    });
  if (typeof value !== "object" || value === null) throw fail("the default export is not an object");
  const p = value as Record<string, unknown>;
  if (typeof p.name !== "string" || !NAME.test(p.name)) throw fail(`"name" must match ${NAME}`);
  if (p.apiVersion !== API_VERSION) {
    throw fail(`"apiVersion" is ${JSON.stringify(p.apiVersion)}, this opsterm speaks ${API_VERSION}`);
  }
  if (p.commands !== undefined && !Array.isArray(p.commands)) throw fail(`"commands" must be an array`);
  for (const [i, c] of ((p.commands as unknown[]) ?? []).entries()) {
    const cmd = c as Record<string, unknown>;
    if (typeof cmd?.name !== "string" || !/^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)?$/.test(cmd.name)) {
      throw fail(`commands[${i}].name must be one or two lower-case words`);
    }
    if (typeof cmd.action !== "function") throw fail(`commands[${i}] ("${cmd.name}") has no action function`);
  }
  if (p.hooks !== undefined && (typeof p.hooks !== "object" || p.hooks === null)) throw fail(`"hooks" must be an object`);
  if (p.setup !== undefined && typeof p.setup !== "function") throw fail(`"setup" must be a function`);
  if (p.enforce !== undefined && p.enforce !== "pre" && p.enforce !== "post") throw fail(`"enforce" must be "pre" or "post"`);
  return p as unknown as OpstermPlugin;
}
