/**
 * createKernel(): resolve paths, set up plugins in tier order, register their hooks and
 * commands, and hand out contexts. A plugin that fails is recorded and skipped.
 */
import { randomUUID } from "node:crypto";
import { createActionGate, type ActionGate } from "./actions.ts";
import { createCommandRegistry, type CommandRegistry } from "./commands.ts";
import { ignoredNotice, loadConfig, type LoadedConfig } from "./config.ts";
import type { CommandContext, Io, KernelFacts, PluginContext } from "./context.ts";
import { OpstermError, PluginError, ConfigError, DeniedError } from "./errors.ts";
import { checkHookNames, createHookBus, type HookBus } from "./hooks.ts";
import { resolvePaths, type Paths } from "./paths.ts";
import { tierOf, type OpstermPlugin, type Teardown } from "./plugin.ts";
import type { Runtime } from "./runtime.ts";
import type { Notice } from "./workspace.ts";
import type { SchemaNode } from "../lib/schema.ts";
import { createStyle } from "../lib/style.ts";
import { createPrompter } from "../lib/prompt.ts";

export interface KernelOptions {
  runtime: Runtime;
  /** Already resolved by the caller (the CLI needs them to find user plugins); resolved here otherwise. */
  paths?: Paths;
  version: string;
  plugins: { plugin: OpstermPlugin; source: "builtin" | "user"; path?: string }[];
  /** Failures found before setup (untrusted or broken user plugins). */
  failures?: KernelFacts["failures"];
  color: { stdout: boolean; stderr: boolean };
  debug: boolean;
}

export interface Kernel {
  paths: Paths;
  hooks: HookBus;
  /** The executor registry and the gate. */
  actions: ActionGate;
  registry: CommandRegistry;
  facts: KernelFacts;
  io: Io;
  config(): Promise<LoadedConfig>;
  configSchema(): SchemaNode;
  commandContext(command: { name: string; plugin: string }, flags: { json: boolean }, signal: AbortSignal): CommandContext;
  /** Runs `close` hooks, then teardowns in reverse; the first error is rethrown after all ran. */
  close(): Promise<void>;
}

export async function createKernel(options: KernelOptions): Promise<Kernel> {
  const { runtime } = options;
  const paths = options.paths ?? resolvePaths(runtime.env, runtime.cwd(), { uid: runtime.uid });
  const hooks = createHookBus();
  const registry = createCommandRegistry();
  const services = new Map<string, { plugin: string; service: unknown; builtinOnly: boolean }>();
  const actions = createActionGate(hooks);
  const sources = new Map(options.plugins.map((p) => [p.plugin.name, p.source]));
  const teardowns: { plugin: string; fn: Teardown }[] = [];
  const facts: KernelFacts = { version: options.version, plugins: [], failures: [...(options.failures ?? [])] };
  const schemaProps: Record<string, SchemaNode> = {};
  const output = { json: false };
  const io = createIo(runtime, options.color, options.debug, output);
  paths.workspace?.onNotice(io.notice);

  let configPromise: Promise<LoadedConfig> | undefined;
  const configSchema = (): SchemaNode => ({ type: "object", properties: schemaProps });
  const config = () =>
    (configPromise ??= loadConfig(paths, configSchema()).then((loaded) => {
      const notice = ignoredNotice(loaded.ignored);
      if (notice) io.notice(notice);
      return loaded;
    }));

  // Outside a command there is no terminal to ask on and no invocation: plugin contexts get a
  // prompter that never asks and a run id of their own.
  const quietPrompt = createPrompter(() => ({ isTTY: false }) as NodeJS.ReadStream, { isTTY: false } as NodeJS.WriteStream);

  function pluginContext(plugin: string): PluginContext {
    const source = sources.get(plugin) ?? "builtin";
    const lookup = (name: string) => {
      const entry = services.get(name);
      if (entry?.builtinOnly && source !== "builtin") {
        throw new DeniedError("E_SERVICE_PRIVATE", `Plugin "${plugin}" may not use service "${name}": it is for built-in plugins only`, {
          plugin,
          hint: "User plugins act on servers through ctx.actions.run(), which applies the policy, approval and audit",
        });
      }
      return entry;
    };
    const ctx: PluginContext = {
      plugin,
      source,
      runtime,
      paths,
      env: runtime.env,
      io,
      hooks: { call: hooks.call },
      config,
      provide(name, service, provideOptions = {}) {
        const existing = services.get(name);
        if (existing) throw new OpstermError("E_SERVICE_CONFLICT", `Plugin "${plugin}" provides service "${name}", which "${existing.plugin}" already provides`, { plugin });
        services.set(name, { plugin, service, builtinOnly: Boolean(provideOptions.builtinOnly) });
      },
      use(name) {
        const entry = lookup(name);
        if (!entry) {
          throw new ConfigError("E_SERVICE_MISSING", `No plugin provides "${name}", which "${plugin}" needs`, {
            plugin,
            hint: `Run "opsterm doctor" to see which plugins failed to load`,
          });
        }
        return entry.service as never;
      },
      tryUse: (name) => lookup(name)?.service as never,
      actions: undefined as never,
      registerExecutor(executor) {
        if (source !== "builtin") {
          throw new DeniedError("E_EXECUTOR_PRIVATE", `Plugin "${plugin}" may not register an executor: only built-in plugins serve action kinds`, { plugin });
        }
        actions.register(plugin, executor);
      },
    };
    const { hooks: h, tryUse, env, config: cfg } = ctx;
    // The run id is made when a plugin first acts, not at start-up: randomUUID() loads node:crypto,
    // which `opsterm --help` and most commands never need.
    let runId: string | undefined;
    ctx.actions = actions.bind({
      hooks: h,
      tryUse,
      io,
      env,
      config: cfg,
      paths,
      runtime,
      prompt: quietPrompt,
      signal: new AbortController().signal,
      get runId() {
        return (runId ??= randomUUID());
      },
      debug: options.debug,
    });
    return ctx;
  }

  const ordered = [...options.plugins].sort((a, b) => tierOf(a.plugin) - tierOf(b.plugin));
  for (const entry of ordered) {
    const { plugin } = entry;
    try {
      const started = performance.now();
      await activate(plugin);
      // --debug shows what each plugin costs at startup (`opsterm --help` has a 50 ms budget).
      if (options.debug) io.debug(`plugin ${plugin.name}: set up in ${(performance.now() - started).toFixed(2)} ms`);
      facts.plugins.push({ name: plugin.name, source: entry.source, path: entry.path, description: plugin.description });
    } catch (error) {
      const e = error instanceof OpstermError ? error : new PluginError(plugin.name, "setup", error);
      facts.failures.push({ name: plugin.name, code: e.code, message: e.message, hint: e.hint });
      if (options.debug && error instanceof Error) io.debug(error.stack ?? String(error));
    }
  }

  async function activate(plugin: OpstermPlugin): Promise<void> {
    if (facts.plugins.some((p) => p.name === plugin.name)) {
      throw new OpstermError("E_PLUGIN_DUPLICATE", `Two plugins are named "${plugin.name}"`, { plugin: plugin.name, hint: "Rename one of them" });
    }
    checkRegistrable(plugin);
    // Services provided during a setup that then throws must not survive it.
    const servicesBefore = new Set(services.keys());
    try {
      const teardown = await plugin.setup?.(pluginContext(plugin.name));
      if (typeof teardown === "function") teardowns.push({ plugin: plugin.name, fn: teardown });
    } catch (error) {
      for (const name of services.keys()) if (!servicesBefore.has(name)) services.delete(name);
      if (error instanceof OpstermError) {
        error.plugin ??= plugin.name;
        throw error;
      }
      throw new PluginError(plugin.name, "setup", error);
    }
    for (const spec of plugin.commands ?? []) registry.add(plugin.name, spec);
    if (plugin.hooks) hooks.register(plugin.name, tierOf(plugin), plugin.hooks, pluginContext(plugin.name));
    Object.assign(schemaProps, plugin.config);
  }

  /** Conflicts are found before setup runs, so a rejected plugin leaves nothing behind. */
  function checkRegistrable(plugin: OpstermPlugin): void {
    checkHookNames(plugin.name, Object.keys(plugin.hooks ?? {}));
    registry.check(plugin.name, plugin.commands ?? []);
    for (const key of Object.keys(plugin.config ?? {})) {
      if (key in schemaProps) throw new OpstermError("E_CONFIG_CONFLICT", `Plugin "${plugin.name}" declares config key "${key}", which is taken`, { plugin: plugin.name });
    }
  }

  await hooks.call("ready", { plugins: facts.plugins.map((p) => p.name) });

  return {
    paths,
    hooks,
    actions,
    registry,
    facts,
    io,
    config,
    configSchema,
    commandContext(command, flags, signal) {
      output.json = flags.json;
      const base = pluginContext(command.plugin);
      const ctx: CommandContext = {
        ...base,
        command: command.name,
        runId: randomUUID(),
        json: flags.json,
        debug: options.debug,
        prompt: createPrompter(() => runtime.stdin, runtime.stderr, runtime.openTty),
        signal,
        registry,
        configSchema,
        kernel: facts,
        actions: undefined as never,
      };
      // Bound to this command: its prompts, io, abort signal and run id.
      ctx.actions = actions.bind(ctx);
      return ctx;
    },
    async close() {
      let first: unknown;
      try {
        await hooks.call("close");
      } catch (error) {
        first = error;
      }
      for (const { plugin, fn } of [...teardowns].reverse()) {
        try {
          await fn();
        } catch (error) {
          first ??= new PluginError(plugin, "teardown", error);
        }
      }
      if (first) throw first;
    },
  };
}

function createIo(runtime: Runtime, color: { stdout: boolean; stderr: boolean }, debug: boolean, output: { json: boolean }): Io {
  const style = createStyle(color.stdout);
  const errStyle = createStyle(color.stderr);
  const notices: Notice[] = [];
  // With --json, every JSON object printed after a notice carries them all (first, so a
  // command's own field of that name would win): scripts see what a person sees on stderr.
  const withNotices = (text: string) => {
    if (!output.json || notices.length === 0 || !text.startsWith("{") || !text.endsWith("}")) return text;
    return `{"notices":${JSON.stringify(notices)}${text === "{}" ? "" : ","}${text.slice(1)}`;
  };
  // stdin is looked at only when asked for (see hostRuntime): building it costs startup time.
  let stdinIsTTY: boolean | undefined;
  return {
    stdout: runtime.stdout,
    stderr: runtime.stderr,
    get stdin() {
      return runtime.stdin;
    },
    isTTY: {
      get stdin() {
        return (stdinIsTTY ??= Boolean(runtime.stdin.isTTY));
      },
      stdout: Boolean(runtime.stdout.isTTY),
      stderr: Boolean(runtime.stderr.isTTY),
    },
    style,
    errStyle,
    out: (text) => void runtime.stdout.write(withNotices(text) + "\n"),
    err: (text) => void runtime.stderr.write(text + "\n"),
    warn: (text) => void runtime.stderr.write(`${errStyle.yellow("warning:")} ${text}\n`),
    debug: (text) => {
      if (debug) runtime.stderr.write(errStyle.dim(`debug: ${text}`) + "\n");
    },
    notice: (notice) => {
      if (notices.some((n) => n.code === notice.code && n.message === notice.message)) return;
      notices.push(notice);
      runtime.stderr.write(`${errStyle.yellow("opsterm:")} ${notice.message}${notice.hint ? errStyle.dim(` (${notice.hint})`) : ""}\n`);
    },
  };
}
