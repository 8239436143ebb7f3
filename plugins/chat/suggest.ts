/**
 * Suggested commands: each is previewed through the gate (the policy's verdict, fail closed),
 * offered as Execute / Modify / Describe / Abort (default Abort), and run through the gate as a
 * `local` action on this machine or an `exec` action on a server: approval, audit and history
 * are the gate's, as for every other action.
 */
import { exitCodeFor, type CommandContext, type Verdict } from "../../src/kernel/index.ts";
import { shellQuote } from "../../src/lib/shell-quote.ts";
// Type-only: the shell plugin augments OpstermServices with "shell"; no runtime import of its code.
import type {} from "../../src/contracts/shell.ts";

export { extractCommands } from "../../src/lib/suggested-commands.ts";

export interface OfferOptions {
  /** Inventory id for `--on`; local when undefined. */
  server?: string;
  /** Explains a command (the Describe choice), e.g. by asking the model. */
  describe?: (command: string) => Promise<void>;
}

export interface OfferResult {
  command: string;
  verdict: Verdict;
  action: "executed" | "skipped" | "rejected" | "aborted" | "refused";
  exitCode?: number | null;
  /** What a CLI should exit with for this run (exitCodeFor): 74 when its audit record failed, 77 refused … */
  status?: number;
}

/** The gate's verdict for running `command` here (`local`) or on `server`, without running it. */
export async function previewVerdict(ctx: CommandContext, command: string, server?: string): Promise<Verdict> {
  const preview = await ctx.actions.preview(server ? { kind: "exec", target: server, command, origin: "ai" } : { kind: "local", target: "local", command, origin: "ai" });
  return preview.verdict;
}

function describeVerdict(ctx: CommandContext, v: Verdict): string {
  const s = ctx.io.errStyle;
  const colour = v.decision === "auto-allow" ? s.green : v.decision === "approval-required" ? s.yellow : s.red;
  return `${colour(v.decision)} ${s.dim(`(${v.rule})`)} ${v.reason}`;
}

/**
 * What the shell key binding should insert for these suggestions: the first command the policy
 * does not reject (a rejected one is never offered, so it is not handed to the prompt either).
 * With `--on`, it is wrapped in `opsterm exec <server> -- '…'`, so pressing Enter runs it where it
 * was meant to run, through the same gate.
 */
async function suggestionFor(ctx: CommandContext, commands: string[], server?: string): Promise<string | undefined> {
  for (const command of commands) {
    if ((await previewVerdict(ctx, command, server)).decision === "reject") continue;
    return server ? `opsterm exec ${shellQuote(server)} -- ${shellQuote(command)}` : command;
  }
  return undefined;
}

/** Saves the suggestion for the key binding when the shell plugin is loaded; never fails the answer. */
export async function saveSuggestion(ctx: CommandContext, commands: string[], server?: string): Promise<string | undefined> {
  const shell = ctx.tryUse("shell");
  if (!shell || typeof shell.saveSuggestion !== "function") return undefined;
  const text = await suggestionFor(ctx, commands, server);
  if (text === undefined) return undefined;
  try {
    return (await shell.saveSuggestion(text)) ? text : undefined;
  } catch (error) {
    ctx.io.warn(`the suggested command was not saved for the shell key binding: ${(error as Error).message}`);
    return undefined;
  }
}

/** Offers each command in turn. Abort (the default) stops the whole offer. */
export async function offerCommands(ctx: CommandContext, commands: string[], options: OfferOptions = {}): Promise<OfferResult[]> {
  const results: OfferResult[] = [];
  const s = ctx.io.errStyle;
  for (const [i, original] of commands.entries()) {
    let command = original;
    for (;;) {
      const verdict = await previewVerdict(ctx, command, options.server);
      ctx.io.err("");
      ctx.io.err(`${s.bold(`Suggested command ${i + 1}/${commands.length}`)}${options.server ? ` on ${s.bold(options.server)}` : " (local)"}:`);
      ctx.io.err(`  ${s.cyan(command.split("\n").join("\n  "))}`);
      ctx.io.err(`  policy: ${describeVerdict(ctx, verdict)}`);
      if (verdict.decision === "reject") {
        ctx.io.err(s.dim("  not offered"));
        results.push({ command, verdict, action: "rejected" });
        break;
      }
      const choice = await ctx.prompt.select(
        "What now?",
        [
          { value: "execute", label: "Execute" },
          { value: "modify", label: "Modify" },
          { value: "describe", label: "Describe" },
          { value: "abort", label: "Abort" },
        ],
        "abort",
      );
      if (choice === "abort") {
        results.push({ command, verdict, action: "aborted" });
        return results;
      }
      if (choice === "describe") {
        if (options.describe) await options.describe(command);
        else ctx.io.err(`  ${verdict.reason}`);
        continue;
      }
      if (choice === "modify") {
        const edited = (await ctx.prompt.text("Command:", { default: command })).trim();
        if (edited) command = edited;
        continue;
      }
      const result = await run(ctx, command, options.server);
      results.push({ command, verdict: result.verdict ?? verdict, action: result.attempted ? "executed" : "refused", exitCode: result.exitCode, status: exitCodeFor(result) });
      break;
    }
  }
  return results;
}

/**
 * Runs the chosen command through the gate: on the server with its output streamed here, or on
 * this machine with the terminal handed to it. The gate asks for approval when the policy says so.
 */
async function run(ctx: CommandContext, command: string, server?: string) {
  const s = ctx.io.errStyle;
  const result = server
    ? await ctx.actions.run(
        { kind: "exec", target: server, command, origin: "ai" },
        { io: { onStdout: (chunk) => void ctx.io.stdout.write(chunk), onStderr: (chunk) => void ctx.io.stderr.write(chunk) } },
      )
    : await ctx.actions.run({ kind: "local", target: "local", command, origin: "ai", params: { inherit: true } });
  if (result.error && !result.attempted) ctx.io.err(`${s.red("not run:")} ${result.error.message}`);
  else if (result.error) ctx.io.err(`${s.red("failed:")} ${result.error.message}`);
  else ctx.io.err(s.dim(`  exit ${result.exitCode ?? "?"}${server ? ` on ${server}` : ""} (${result.durationMs} ms)`));
  return result;
}
