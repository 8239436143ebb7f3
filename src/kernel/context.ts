/**
 * What plugins and commands receive. Plugins get a PluginContext in setup; command actions get a
 * CommandContext that adds the parsed invocation (io mode, prompts, abort signal).
 */
import type { Actions, AnyExecutor } from "./actions.ts";
import type { CommandRegistry } from "./commands.ts";
import type { HookBus } from "./hooks.ts";
import type { LoadedConfig } from "./config.ts";
import type { Paths } from "./paths.ts";
import type { Notice } from "./workspace.ts";
import type { Runtime } from "./runtime.ts";
import type { Prompter } from "../lib/prompt.ts";
import type { Style } from "../lib/style.ts";
import type { SchemaNode } from "../lib/schema.ts";

/**
 * Services plugins provide to each other, by name. Built-in plugins add their entry by module
 * augmentation in their own `types.ts`:
 * @example
 * declare module "../../src/kernel/context.ts" { interface OpstermServices { policy: PolicyService } }
 */
// deno-lint-ignore no-empty-interface
export interface OpstermServices {}

export type ServiceName = keyof OpstermServices extends never ? string : keyof OpstermServices | (string & {});
type ServiceOf<K> = K extends keyof OpstermServices ? OpstermServices[K] : unknown;

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** Colours for stdout (off for NO_COLOR, --no-color, pipes). */
  style: Style;
  /** Colours for stderr. */
  errStyle: Style;
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Writes a warning line to stderr. */
  warn(text: string): void;
  /** Writes a debug line to stderr with --debug only. */
  debug(text: string): void;
  /**
   * Something the user should know that is not an error (an untrusted workspace that was not
   * read, a server entry that shadows another): one line on stderr, once, and with `--json` a
   * `notices` field in every JSON object printed afterwards.
   */
  notice(notice: Notice): void;
}

export interface ProvideOptions {
  /**
   * Only built-in plugins may use it (a user plugin's `use()` is refused): for services that
   * hand out what the gate guards, such as the ssh plugin's connections for the file executors.
   */
  builtinOnly?: boolean;
}

export interface PluginContext {
  /** The plugin this context belongs to. */
  plugin: string;
  /** Built into opsterm, or added by the user with `opsterm plugin add`. */
  source: "builtin" | "user";
  runtime: Runtime;
  paths: Paths;
  env: Record<string, string | undefined>;
  io: Io;
  hooks: Pick<HookBus, "call">;
  /** Merged config, read and validated on first call. */
  config(): Promise<LoadedConfig>;
  provide<K extends ServiceName>(name: K, service: ServiceOf<K>, options?: ProvideOptions): void;
  /** Throws E_SERVICE_MISSING (exit 78) when no plugin provides `name`, E_SERVICE_PRIVATE (77) for a user plugin asking for a built-in-only one. */
  use<K extends ServiceName>(name: K): ServiceOf<K>;
  tryUse<K extends ServiceName>(name: K): ServiceOf<K> | undefined;
  /**
   * The gate (DESIGN.md §5): the only way to run anything on a server or this machine. Outside a
   * command it has no terminal: approval-required actions need `preApproved` or an approver.
   */
  actions: Actions;
  /** Serves one action kind (built-in plugins only; a user plugin gets E_EXECUTOR_PRIVATE). */
  registerExecutor(executor: AnyExecutor): void;
}

export interface CommandContext extends PluginContext {
  /** Full name of the running command, e.g. `plugin add`. */
  command: string;
  runId: string;
  json: boolean;
  debug: boolean;
  prompt: Prompter;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  registry: CommandRegistry;
  /** The merged schema of every loaded plugin's config keys. */
  configSchema(): SchemaNode;
  /** Facts about the kernel, for doctor and completions. */
  kernel: KernelFacts;
}

export interface KernelFacts {
  version: string;
  plugins: { name: string; source: "builtin" | "user"; path?: string; description?: string }[];
  /** Plugins that could not be loaded or set up, with why. */
  failures: { name: string; code: string; message: string; hint?: string }[];
}
