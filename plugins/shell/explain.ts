/**
 * `opsterm explain-last`: the last command, its exit status and output, redacted, sent through
 * the chat service with "what happened and how do I fix it".
 */
import type { ChatMessage, CommandContext } from "../../src/kernel/index.ts";
import { ConfigError } from "../../src/kernel/index.ts";
import type { CommandOutput } from "./output.ts";
import type { LastCommand } from "./types.ts";
// Type-only: the chat plugin augments OpstermServices with "chat"; no runtime import of its code.
import type {} from "../../src/contracts/chat.ts";
import { extractCommands } from "../../src/lib/suggested-commands.ts";

const QUESTION = "What happened and how do I fix it?";

function buildPrompt(last: LastCommand, output: CommandOutput | undefined): string {
  const secs = (last.durationMs / 1000).toFixed(1);
  const lines = [
    `I ran a command in ${last.shell || "my shell"} (working directory ${last.cwd || "unknown"}).`,
    last.hidden ? "The command line itself is private (it started with a space)." : `Command:\n\`\`\`sh\n${last.command}\n\`\`\``,
    `It exited with status ${last.exitCode}${last.pipeStatus.length > 1 ? ` (pipeline statuses: ${last.pipeStatus.join(" ")})` : ""} after ${secs} s.`,
  ];
  if (output && output.text.trim()) {
    const what = output.source === "capture" ? "its output" : output.trimmed ? "its output (from the terminal)" : "the end of the terminal screen (the output is somewhere in it)";
    lines.push(`Here is ${what}${output.truncated ? ", last lines only" : ""}:\n\`\`\`text\n${output.text}\n\`\`\``);
  } else {
    lines.push("Its output was not captured.");
  }
  lines.push(QUESTION, "If a command fixes it, give exactly one in a ```sh block.");
  return lines.join("\n\n");
}


export async function explainLast(ctx: CommandContext, last: LastCommand, output: CommandOutput | undefined, opts: { model?: string; provider?: string; allowSecrets?: boolean }): Promise<number> {
  const chat = ctx.tryUse("chat");
  if (!chat) {
    throw new ConfigError("E_SHELL_NO_CHAT", "explain-last needs the chat plugin, which is not loaded", {
      hint: "Run `opsterm doctor` to see why the chat plugin failed to load, or `opsterm last` to see the record without AI",
    });
  }
  // The chat service redacts the request (unless allowSecrets) and reports how many values it replaced.
  const content = buildPrompt(last, output);
  const messages: ChatMessage[] = [{ role: "user", content }];
  const streaming = !ctx.json;
  let wroteAny = false;
  // On a terminal the answer is rendered as markdown, as `ask` does; piped, it passes through.
  const { markdownSink, plainSink } = await import("../../src/lib/markdown.ts");
  const write = (t: string) => void ctx.io.stdout.write(t);
  const sink = streaming ? (ctx.io.isTTY.stdout ? markdownSink(write, ctx.io.style) : plainSink(write)) : undefined;
  let answer: Awaited<ReturnType<typeof chat.ask>>;
  try {
    answer = await chat.ask(messages, {
      model: opts.model,
      provider: opts.provider,
      allowSecrets: opts.allowSecrets,
      signal: ctx.signal,
      onToken: sink
        ? (t) => {
            sink.push(t);
            wroteAny = true;
          }
        : undefined,
    });
  } finally {
    sink?.end();
  }
  if (sink && !wroteAny) {
    sink.push(answer.content);
    sink.end();
  }

  const proposed = answer.truncated ? undefined : extractCommands(answer.content)[0];
  const shell = ctx.use("shell");
  const suggestion = proposed !== undefined && (await shell.saveSuggestion(proposed)) ? proposed : undefined;
  try {
    await ctx.hooks.call("history", {
      mode: "explain",
      question: answer.sent[answer.sent.length - 1]?.content ?? content,
      answer: answer.content,
      provider: answer.provider,
      model: answer.model,
      durationMs: answer.durationMs,
      finishReason: answer.finishReason ?? undefined,
      runId: ctx.runId,
    });
  } catch (error) {
    ctx.io.warn(`history was not recorded: ${(error as Error).message}`);
  }
  if (answer.truncated) ctx.io.warn("the answer was cut off at the length limit (finish_reason: length); no command was saved from it");
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ last, output, answer: answer.content, provider: answer.provider, model: answer.model, truncated: answer.truncated, redactions: answer.redactions, suggestion: suggestion ?? null }));
  } else if (suggestion) {
    ctx.io.err(ctx.io.errStyle.dim(`opsterm: suggested command saved; ${shell.insertHint}`));
  } else if (proposed) {
    ctx.io.err(ctx.io.errStyle.dim("opsterm: the suggested command was not saved for the key binding: the policy rejects it"));
  }
  return 0;
}
