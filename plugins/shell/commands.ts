/**
 * `opsterm init <shell>`, `opsterm last`, `opsterm explain-last`. Modules load inside the actions
 * so `opsterm --help` stays cheap.
 */
import { defineCommand, type CommandArgs, type CommandContext } from "../../src/kernel/index.ts";
import { ConfigError, UsageError } from "../../src/kernel/index.ts";
import type { LastCommand } from "./types.ts";

const INSTALL_HINT =
  'Add  eval "$(opsterm init bash)"  to ~/.bashrc (zsh: eval "$(opsterm init zsh)" in ~/.zshrc; fish: opsterm init fish | source in config.fish), open a new shell, run a command, then try again';

const initCommand = defineCommand({
  name: "init",
  description: "Print the shell integration (records the last command for `opsterm last`/`explain-last`, binds Alt-o)",
  usage: "<shell>",
  complete: ["bash", "zsh", "fish"],
  options: [
    { flags: "--key <seq>", description: "Key that inserts the last suggested command (default $OPSTERM_INSERT_KEY or \\eo = Alt-o; none = no binding)" },
    { flags: "--capture-fn <name>", description: "Name of the opt-in output capture wrapper (default oc; none = no wrapper)" },
  ],
  examples: ['eval "$(opsterm init bash)"   # in ~/.bashrc', 'eval "$(opsterm init zsh)"    # in ~/.zshrc', "opsterm init fish | source     # in ~/.config/fish/config.fish", "OPSTERM_INSERT_KEY='\\eg' opsterm init bash"],
  async action(args, ctx) {
    const { SHELLS, DEFAULT_INSERT_KEY, KEY_PATTERN, FN_PATTERN, initScript } = await import("./scripts.ts");
    const shell = String(args.shell ?? "");
    if (!(SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(`Unknown shell "${shell}": opsterm integrates with bash, zsh and fish`, { code: "E_SHELL_UNKNOWN", hint: "Run `opsterm init bash`, `opsterm init zsh` or `opsterm init fish`" });
    }
    let key = String(args.key ?? ctx.env.OPSTERM_INSERT_KEY ?? DEFAULT_INSERT_KEY);
    if (key === "none") key = "";
    if (key && !KEY_PATTERN.test(key)) {
      throw new UsageError(`Key sequence ${JSON.stringify(key)} is not allowed`, { code: "E_SHELL_KEY", hint: "Use key notation of letters, digits, \\ ^ and -, such as \\eo (Alt-o) or \\C-g; or none" });
    }
    let captureFn = String(args.captureFn ?? "oc");
    if (captureFn === "none") captureFn = "";
    if (captureFn && !FN_PATTERN.test(captureFn)) {
      throw new UsageError(`Function name ${JSON.stringify(captureFn)} is not allowed`, { code: "E_SHELL_FN", hint: "Use letters, digits, _ and -, or none" });
    }
    const { shellDir, pruneStale } = await import("./state.ts");
    const { ensureDir } = await import("../../src/lib/atomic-write.ts");
    const dir = shellDir(ctx.paths.dataDir);
    ensureDir(dir, 0o700);
    pruneStale(dir, Date.now());
    const script = initScript(shell as (typeof SHELLS)[number], { dir, key, captureFn });
    if (ctx.json) ctx.io.out(JSON.stringify({ shell, script }));
    else ctx.io.stdout.write(script);
    return 0;
  },
});

const lastCommand = defineCommand({
  name: "last",
  description: "Show what the shell integration recorded about the last command: line, exit status, cwd, duration, output",
  options: [{ flags: "-n, --lines <n>", description: "Show at most n lines of output", default: 50 }],
  examples: ["opsterm last", "opsterm last --json | jq .exitCode", "opsterm last --lines 200"],
  async action(args, ctx) {
    const { lines, last, output } = await lastWithOutput(args, ctx);
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ ...last, output: output ?? null }));
      return 0;
    }
    const s = ctx.io.style;
    const status = last.exitCode === 0 ? s.green(`exit ${last.exitCode}`) : s.red(`exit ${last.exitCode}`);
    ctx.io.out(`${s.bold("command")}  ${last.hidden ? s.dim("(hidden: it started with a space)") : last.command.replace(/\n/g, "\n         ")}`);
    ctx.io.out(`${s.bold("status")}   ${status}${last.pipeStatus.length > 1 ? s.dim(` (pipeline: ${last.pipeStatus.join(" ")})`) : ""}`);
    ctx.io.out(`${s.bold("cwd")}      ${last.cwd}`);
    ctx.io.out(`${s.bold("started")}  ${last.startedAt}  ${s.dim(`(${formatDuration(last.durationMs)}, ${last.shell} pid ${last.pid})`)}`);
    if (!output) {
      const why = last.hidden && last.tmux
        ? "not read: the command is private, and the screen would show it (use the capture wrapper: oc <command>)"
        : "not captured (run inside tmux, or prefix the command with the capture wrapper: oc <command>)";
      ctx.io.out(`${s.bold("output")}   ${s.dim(why)}`);
    } else {
      const note = output.source === "capture" ? "capture wrapper" : output.trimmed ? "tmux pane" : "tmux pane, command line not found: whole screen";
      ctx.io.out(`${s.bold("output")}   ${s.dim(`(${note}${output.truncated ? `, last ${lines} lines` : ""})`)}`);
      if (output.text) ctx.io.out(output.text);
    }
    return 0;
  },
});

const explainLastCommand = defineCommand({
  name: "explain-last",
  description: "Ask the AI what happened in the last command and how to fix it (redacted before it leaves)",
  options: [
    { flags: "--model <model>", description: "Model to use" },
    { flags: "--provider <name>", description: "Provider to use" },
    { flags: "-n, --lines <n>", description: "Send at most n lines of output", default: 80 },
    { flags: "--allow-secrets", description: "Do not redact secrets (sends them as they are)" },
  ],
  examples: ["opsterm explain-last", "opsterm explain-last --provider ollama --model llama3.2"],
  async action(args, ctx) {
    const { lines, last, output } = await lastWithOutput(args, ctx);
    const { explainLast } = await import("./explain.ts");
    return explainLast(ctx, last, output, {
      model: args.model === undefined ? undefined : String(args.model),
      provider: args.provider === undefined ? undefined : String(args.provider),
      allowSecrets: Boolean(args.allowSecrets),
    });
  },
});

export const shellCommands = [initCommand, lastCommand, explainLastCommand];

function parseLines(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new UsageError(`--lines must be a whole number from 1 to 100000, not ${JSON.stringify(value)}`, { code: "E_SHELL_LINES" });
  }
  return n;
}

async function requireLast(ctx: CommandContext): Promise<LastCommand> {
  const last = ctx.use("shell").lastCommand();
  if (last) return last;
  const installed = Boolean(ctx.env.OPSTERM_SHELL_SESSION);
  throw new ConfigError(
    "E_SHELL_NOTHING_RECORDED",
    installed ? "No command has finished in this shell since the integration was loaded" : "Nothing recorded: the shell integration is not installed in this shell",
    { hint: installed ? "Run a command, then try again" : INSTALL_HINT },
  );
}

/** The recorded last command and its output (tmux pane or capture wrapper), at most `--lines` lines. */
async function lastWithOutput(args: CommandArgs, ctx: CommandContext) {
  const lines = parseLines(args.lines);
  const last = await requireLast(ctx);
  const [{ commandOutput }, { shellDir }] = await Promise.all([import("./output.ts"), import("./state.ts")]);
  const output = await commandOutput(last, shellDir(ctx.paths.dataDir), lines, ctx.signal);
  return { lines, last, output };
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
