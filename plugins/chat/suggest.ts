/**
 * Suggested commands: extracted from an answer, classified by the policy service (none → reject,
 * fail closed), offered as Execute / Modify / Describe / Abort (default Abort), and run locally
 * (`bash -c` with the command as one argv element, audit intent first: no audit service, nothing
 * runs) or on a server through the ssh plugin's "remote" service (src/lib/remote-action.ts).
 */
import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import type { CommandContext, Verdict } from "../../src/kernel/index.ts";
import { IoError, UnavailableError } from "../../src/kernel/index.ts";
// Type-only: the shell plugin augments OpstermServices with "shell"; no runtime import of its code.
import type {} from "../shell/types.ts";

const SHELL_LANGS = new Set(["bash", "sh", "shell", "zsh", "console", "shell-session", "shellsession"]);

/** Commands from fenced bash/sh blocks and `$ ` lines, in order, without duplicates. */
export function extractCommands(markdown: string): string[] {
  const found: string[] = [];
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  let fence: { marker: string; lang: string; body: string[] } | undefined;
  for (const line of lines) {
    if (fence) {
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, "") === "") {
        if (SHELL_LANGS.has(fence.lang)) found.push(...fromBlock(fence.body, fence.lang));
        fence = undefined;
      } else fence.body.push(line);
      continue;
    }
    const open = /^\s*(`{3,}|~{3,})\s*([A-Za-z-]*)/.exec(line);
    if (open) {
      fence = { marker: open[1], lang: open[2].toLowerCase(), body: [] };
      continue;
    }
    const prompt = /^\s*\$ (.+)$/.exec(line);
    if (prompt) found.push(prompt[1].trim());
  }
  // An unterminated fence (the answer was cut) yields nothing: half a command is worse than none.
  return [...new Set(found.filter((c) => c.length > 0))];
}

function fromBlock(body: string[], lang: string): string[] {
  const prompted = body.filter((l) => /^\s*\$ /.test(l));
  // A console transcript: only the `$ ` lines are commands, the rest is output.
  if (lang === "console" || lang.startsWith("shell-") || prompted.length > 0) {
    return prompted.map((l) => l.replace(/^\s*\$ /, "").trim());
  }
  const text = body.join("\n").trim();
  return text ? [text] : [];
}

export interface OfferOptions {
  /** Inventory id for `--on`; local when undefined. */
  server?: string;
  tier?: string;
  /** Explains a command (the Describe choice), e.g. by asking the model. */
  describe?: (command: string) => Promise<void>;
}

export interface OfferResult {
  command: string;
  verdict: Verdict;
  action: "executed" | "skipped" | "rejected" | "aborted" | "refused";
  exitCode?: number | null;
}

/** Loads the policy engine (once per process) so that classify() can answer synchronously. */
export async function loadPolicy(ctx: CommandContext): Promise<void> {
  try {
    await ctx.tryUse("policy")?.load?.();
  } catch {
    // classify() then throws, which it turns into a reject.
  }
}

/** Classifies with the policy service; no service (or a throwing one) is a reject. */
export function classify(ctx: CommandContext, command: string, server?: string, tier?: string): Verdict {
  const policy = ctx.tryUse("policy");
  if (!policy || typeof policy.classify !== "function") {
    return { decision: "reject", rule: "chat.no-policy", reason: "no policy plugin is loaded, so suggested commands are never run" };
  }
  try {
    return policy.classify(command, { server: server ?? "local", tier });
  } catch (error) {
    return { decision: "reject", rule: "chat.policy-error", reason: `the policy check failed: ${(error as Error).message}` };
  }
}

function describeVerdict(ctx: CommandContext, v: Verdict): string {
  const s = ctx.io.errStyle;
  const colour = v.decision === "auto-allow" ? s.green : v.decision === "approval-required" ? s.yellow : s.red;
  return `${colour(v.decision)} ${s.dim(`(${v.rule})`)} ${v.reason}`;
}

/** POSIX single-quoting for one shell word. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * What the shell key binding should insert for these suggestions: the first command the policy
 * does not reject (a rejected one is never offered, so it is not handed to the prompt either).
 * With `--on`, it is wrapped in `opsterm exec <server> -- '…'`, so pressing Enter runs it where it
 * was meant to run, through the same gate.
 */
function suggestionFor(ctx: CommandContext, commands: string[], server?: string, tier?: string): string | undefined {
  const command = commands.find((c) => classify(ctx, c, server, tier).decision !== "reject");
  if (command === undefined) return undefined;
  return server ? `opsterm exec ${shellQuote(server)} -- ${shellQuote(command)}` : command;
}

/** Saves the suggestion for the key binding when the shell plugin is loaded; never fails the answer. */
export async function saveSuggestion(ctx: CommandContext, commands: string[], server?: string, tier?: string): Promise<string | undefined> {
  const shell = ctx.tryUse("shell");
  if (!shell || typeof shell.saveSuggestion !== "function") return undefined;
  await loadPolicy(ctx);
  const text = suggestionFor(ctx, commands, server, tier);
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
  await loadPolicy(ctx);
  const results: OfferResult[] = [];
  const s = ctx.io.errStyle;
  for (const [i, original] of commands.entries()) {
    let command = original;
    for (;;) {
      const verdict = classify(ctx, command, options.server, options.tier);
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
      if (options.server) {
        const result = await runRemote(ctx, options.server, command);
        results.push({ command, verdict, action: result.exitCode === undefined ? "refused" : "executed", exitCode: result.exitCode });
        break;
      }
      if (verdict.decision === "approval-required") {
        const yes = await ctx.prompt.confirm(`  ${s.yellow("approval required")}: run it?`, { default: false, what: "This command" });
        if (!yes) {
          ctx.io.err(s.dim("  not approved"));
          results.push({ command, verdict, action: "refused" });
          break;
        }
      }
      const approver = verdict.decision === "approval-required" ? `tty:${userName(ctx)}` : undefined;
      const exitCode = await runLocal(ctx, command, verdict, approver);
      results.push({ command, verdict, action: "executed", exitCode });
      break;
    }
  }
  return results;
}

async function runRemote(ctx: CommandContext, server: string, command: string): Promise<{ exitCode?: number | null }> {
  const remote = ctx.tryUse("remote");
  if (!remote || typeof remote.exec !== "function") {
    throw new UnavailableError("E_CHAT_NO_REMOTE", `Cannot run on "${server}": no plugin provides remote execution`, {
      hint: `Run "opsterm doctor" to see whether the ssh plugin failed to load`,
    });
  }
  const result = await remote.exec(server, command, {
    ctx,
    origin: "ai",
    signal: ctx.signal,
    onStdout: (chunk) => void ctx.io.stdout.write(chunk),
    onStderr: (chunk) => void ctx.io.stderr.write(chunk),
  });
  if (result.error) ctx.io.err(`${ctx.io.errStyle.red("not run:")} ${result.error.message}`);
  else ctx.io.err(ctx.io.errStyle.dim(`  exit ${result.exitCode} on ${server} (${result.durationMs} ms)`));
  return { exitCode: result.attempted ? result.exitCode : undefined };
}

/**
 * Local run, fail closed like a remote action: no audit service, or an intent record that cannot
 * be written, means nothing runs. Then `bash -c` with the command as one argv element.
 */
async function runLocal(ctx: CommandContext, command: string, verdict: Verdict, approver?: string): Promise<number | null> {
  const audit = ctx.tryUse("audit");
  if (!audit || typeof audit.append !== "function") {
    throw new IoError("E_AUDIT_MISSING", "No audit plugin is loaded, so the suggested command was not run (every execution needs an audit record first)", {
      hint: 'Run "opsterm doctor" to see why the audit plugin failed to load',
    });
  }
  const started = Date.now();
  const base = {
    runId: ctx.runId,
    actor: `${userName(ctx)} (ai)`,
    server: "local",
    action: "exec" as const,
    args: { command, origin: "ai" },
    decision: verdict.decision,
    rule: verdict.rule,
    approver,
  };
  try {
    await audit.append({ ...base, phase: "intent" });
  } catch (error) {
    throw new IoError("E_AUDIT_WRITE", `The audit record could not be written, so nothing was run: ${(error as Error).message}`, {
      hint: "Check the audit directory (opsterm audit verify)",
    });
  }
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn("bash", ["-c", command], { stdio: ["inherit", "inherit", "inherit"], env: ctx.env as NodeJS.ProcessEnv, cwd: ctx.runtime.cwd() });
    const onAbort = () => child.kill("SIGINT");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", () => resolve(null));
    child.on("close", (code) => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(code);
    });
  });
  const durationMs = Date.now() - started;
  ctx.io.err(ctx.io.errStyle.dim(`  exit ${exitCode ?? "?"} (${durationMs} ms)`));
  try {
    await audit.append({ ...base, phase: "result", exitCode, durationMs });
  } catch (error) {
    ctx.io.warn(`the command ran, but its audit result could not be written: ${(error as Error).message}`);
  }
  try {
    await ctx.hooks.call("history", {
      mode: "exec",
      server: "local",
      command,
      exitCode,
      durationMs,
      decision: verdict.decision,
      rule: verdict.rule,
      approver,
      origin: "ai",
      runId: ctx.runId,
    });
  } catch (error) {
    ctx.io.warn(`history was not recorded: ${(error as Error).message}`);
  }
  return exitCode;
}

function userName(ctx: CommandContext): string {
  try {
    return ctx.env.USER || userInfo().username;
  } catch {
    return "unknown";
  }
}
