/**
 * The CLI: global flags → kernel with built-in and trusted user plugins → resolve the command →
 * parse its arguments → run it between beforeCommand/afterCommand → exit code.
 */
import { createKernel, type Kernel } from "../kernel/kernel.ts";
import type { RegisteredCommand } from "../kernel/commands.ts";
import { EXIT, fromSystemError, InterruptedError, isOpstermError, OpstermError, UnavailableError, UsageError } from "../kernel/errors.ts";
import { commandWords, loadUserPlugins } from "../kernel/loader.ts";
import { resolvePaths } from "../kernel/paths.ts";
import type { OpstermPlugin } from "../kernel/plugin.ts";
import type { Runtime } from "../kernel/runtime.ts";
import { colorWanted, createStyle } from "../lib/style.ts";
import { VERSION } from "../version.ts";
import { extractGlobalFlags, leadingWords, resolveCommand, unknownCommand, type GlobalFlags } from "./argv.ts";
import { formatError } from "./format-error.ts";
import { readCompletionCache } from "./complete-cache.ts";
import { printCandidates } from "./commands/complete.ts";
import { explainUsageError, mistypedCommand } from "./not-a-question.ts";
import { renderCommandHelp, renderGroupHelp, renderMainHelp } from "./help.ts";
import { parseCommandArgs } from "./parse-args.ts";

/** What a shell reports for a command killed by SIGPIPE (128 + 13). */
const EXIT_SIGPIPE = 141;

export async function runCli(runtime: Runtime, builtins: OpstermPlugin[]): Promise<number> {
  const { flags, rest } = extractGlobalFlags(runtime.argv);
  const errColor = colorWanted(runtime.env, Boolean(runtime.stderr.isTTY), flags.color);
  if (flags.version && leadingWords(rest).length === 0) {
    runtime.stdout.write(flags.json ? JSON.stringify({ version: VERSION }) + "\n" : `opsterm ${VERSION}\n`);
    return EXIT.OK;
  }
  let kernel: Kernel | undefined;
  try {
    const paths = resolvePaths(runtime.env, runtime.cwd(), { uid: runtime.uid });
    // TAB in a shell: answer from the cached candidates when servers.yaml has not changed.
    if (rest[0] === "__complete" && rest[1] === "servers") {
      const words = readCompletionCache(paths);
      if (words) {
        printCandidates(runtime.stdout, words, rest[2] ?? "", flags.json);
        return EXIT.OK;
      }
    }
    const user = await loadUserPlugins(paths.configDir);
    kernel = await createKernel({
      runtime,
      paths,
      version: VERSION,
      plugins: [...builtins.map((plugin) => ({ plugin, source: "builtin" as const })), ...user.plugins],
      failures: user.failures,
      color: { stdout: colorWanted(runtime.env, Boolean(runtime.stdout.isTTY), flags.color), stderr: errColor },
      debug: flags.debug,
    });
    const refused = new Map(user.refusedCommands);
    // A plugin (user or built-in) that failed in setup: its commands, and the words of its
    // groups, explain that, rather than falling through to the default command as if they
    // were words of a question.
    for (const failure of kernel.facts.failures) {
      const names = user.entries.find((e) => e.name === failure.name)?.commands ?? builtins.find((p) => p.name === failure.name)?.commands?.map((c) => c.name) ?? [];
      for (const cmd of commandWords(names)) {
        if (refused.has(cmd) || kernel.registry.get(cmd) || kernel.registry.groups().has(cmd)) continue;
        refused.set(cmd, new UnavailableError("E_PLUGIN_FAILED", `Command "${cmd}" is unavailable: ${failure.message}`, { plugin: failure.name, hint: failure.hint }));
      }
    }
    return await dispatch(kernel, flags, rest, refused, new Set(user.plugins.map((p) => p.plugin.name)));
  } catch (error) {
    const formatted = formatError(error, { debug: flags.debug, json: flags.json, style: createStyle(errColor) });
    runtime.stderr.write(formatted.text + "\n");
    return formatted.exitCode;
  } finally {
    await kernel?.close().catch((error) => {
      runtime.stderr.write(formatError(error, { debug: flags.debug, json: false, style: createStyle(errColor) }).text + "\n");
    });
  }
}

async function dispatch(kernel: Kernel, flags: GlobalFlags, argv: string[], refused: Map<string, OpstermError>, userPlugins: Set<string>): Promise<number> {
  const { io, registry } = kernel;
  // `opsterm help [command]` is `--help`, but only when what follows names a command (or nothing):
  // `opsterm help me read this log` stays a question for the default command.
  if (argv[0] === "help" && !registry.get("help")) {
    const rest = argv.slice(1);
    if (rest[0] === "errors" && leadingWords(rest).length <= 2) return (await import("./help-errors.ts")).helpErrors(io, flags.json, leadingWords(rest)[1]);
    const topic = await (await import("./help-topics.ts")).helpTopic(io, flags.json, rest, (w) => resolveCommand(registry, [w]).kind !== "none");
    if (topic !== undefined) return topic;
    if (leadingWords(rest).length === 0 || resolveCommand(registry, rest).kind !== "none") {
      return dispatch(kernel, { ...flags, help: true }, rest, refused, userPlugins);
    }
  }
  const resolution = resolveCommand(registry, argv);
  const words = leadingWords(argv);
  const refusal = words.length ? (refused.get(words.slice(0, 2).join(" ")) ?? refused.get(words[0])) : undefined;
  if (resolution.kind === "none" && refusal) throw refusal;
  warnAboutFailures(kernel, words[0]);

  if (resolution.kind === "group") {
    io.out(renderGroupHelp(resolution.group, resolution.actions, io.style));
    return flags.help ? EXIT.OK : EXIT.USAGE;
  }
  if (resolution.kind === "command") {
    if (flags.help) {
      const group = resolution.group ? registry.groups().get(resolution.group) : undefined;
      io.out(group ? renderGroupHelp(resolution.group!, group, io.style) : renderCommandHelp(resolution.command, io.style));
      return EXIT.OK;
    }
    return runCommand(kernel, resolution.command, resolution.rest, flags);
  }
  const fallback = registry.defaultCommand();
  // Bare `opsterm` on a terminal shows help; with piped stdin or options (`-c …`) it is a question.
  // `flags.help` first: it spares `opsterm --help` from building the stdin stream.
  if (flags.help || (argv.length === 0 && (!fallback || io.isTTY.stdin)) || (!fallback && words.length === 0)) {
    io.out(renderMainHelp(registry, kernel.facts.version, io.style, userPlugins));
    return flags.help || argv.length === 0 ? EXIT.OK : EXIT.USAGE;
  }
  // A word that is nearly a command name is a typo, not a question for the default command.
  const typo = mistypedCommand(registry, argv, io.isTTY.stdin, (text) => io.warn(text));
  if (!fallback || typo) throw typo ?? unknownCommand(registry, words[0] ?? argv[0]);
  return runCommand(kernel, fallback, argv, flags);
}

function warnAboutFailures(kernel: Kernel, firstWord: string | undefined): void {
  // `plugin …` and `doctor` show failures themselves, in full.
  if (firstWord === "plugin" || firstWord === "doctor") return;
  for (const f of kernel.facts.failures) kernel.io.warn(`${f.message}${f.hint ? ` (${f.hint})` : ""}`);
}

async function runCommand(kernel: Kernel, command: RegisteredCommand, argv: string[], flags: GlobalFlags): Promise<number> {
  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(command, argv);
  } catch (error) {
    throw error instanceof UsageError ? explainUsageError(error, command, argv) : error;
  }
  const controller = new AbortController();
  const ctx = kernel.commandContext(command, { json: flags.json }, controller.signal);
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    controller.abort(new InterruptedError());
    // A second Ctrl-C means "now": do not wait for cleanup that may hang on the network.
    if (interrupts > 1) ctx.runtime.exit(EXIT.INTERRUPTED);
  };
  const offInt = ctx.runtime.onSignal("SIGINT", onInterrupt);
  const offTerm = ctx.runtime.onSignal("SIGTERM", onInterrupt);
  // The reader went away (`| head`): stop the work as for Ctrl-C, quietly, and exit like a
  // command killed by SIGPIPE (141) once its records are written.
  let outputClosed = false;
  const offClosed = ctx.runtime.onOutputClosed?.(() => {
    outputClosed = true;
    controller.abort(new InterruptedError("The output was closed"));
  });
  const started = Date.now();
  const event = { command: command.name, args, runId: ctx.runId };
  let exitCode: number = EXIT.OK;
  let failure: unknown;
  try {
    await kernel.hooks.call("beforeCommand", event);
    const result = await command.action(args, ctx);
    exitCode = typeof result === "number" ? result : EXIT.OK;
    if (controller.signal.aborted && exitCode === EXIT.OK) exitCode = EXIT.INTERRUPTED;
  } catch (error) {
    failure = controller.signal.aborted && !isOpstermError(error) ? new InterruptedError() : fromSystemError(error);
    exitCode = isOpstermError(failure) ? failure.exitCode : EXIT.FAILURE;
  } finally {
    offInt();
    offTerm();
    offClosed?.();
  }
  if (outputClosed) {
    failure = undefined;
    exitCode = EXIT_SIGPIPE;
  }
  const e = failure as OpstermError | undefined;
  await kernel.hooks.call("afterCommand", {
    ...event,
    exitCode,
    durationMs: Date.now() - started,
    error: e ? { code: e.code ?? "E_INTERNAL", message: e.message ?? String(e) } : undefined,
  });
  if (failure) throw failure;
  return exitCode;
}
