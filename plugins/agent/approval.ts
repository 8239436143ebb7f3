/**
 * The agent's approver for the gate: shows the host, the exact command (or the unified diff of a
 * write), the policy rule and its reason, and asks once / for this session / deny / abort. "For
 * this session" is bound to a hash of server + tool + arguments: the same call again runs
 * unasked, any other call asks. Without a terminal nothing is approved (unless --yes, which the
 * gate handles as pre-approval; `reject` never runs either way).
 */
import { createHash } from "node:crypto";
import type { ApprovalAnswer, Approver, CommandContext } from "../../src/kernel/index.ts";
import { currentUser } from "../../src/lib/user.ts";

export type Choice = "once" | "session" | "deny" | "abort";

export interface SessionApprovals {
  /** The approver for one tool call (its server, tool and arguments make the session key). */
  forCall(tool: string, server: string | undefined, args: Record<string, unknown>): Approver;
  /** The person chose "abort": the agent stops after this call. */
  readonly aborted: boolean;
  /** Ctrl-C at the prompt (the terminal is in raw mode there, so no SIGINT reaches the process). */
  readonly interrupted: boolean;
  /** Calls approved for the session (hashes). */
  readonly sessionKeys: ReadonlySet<string>;
}

/** Stable JSON (sorted keys) so the same arguments hash the same whatever their order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function callKey(tool: string, server: string | undefined, args: Record<string, unknown>): string {
  const { server: _drop, ...rest } = args;
  return createHash("sha256").update(`${server ?? ""}\0${tool}\0${stableJson(rest)}`).digest("hex");
}

export function createSessionApprovals(ctx: Pick<CommandContext, "prompt" | "io" | "env">): SessionApprovals {
  const keys = new Set<string>();
  let aborted = false;
  let interrupted = false;
  const who = () => `tty:${currentUser(ctx.env)}`;
  return {
    get aborted() {
      return aborted;
    },
    get interrupted() {
      return interrupted;
    },
    sessionKeys: keys,
    forCall(tool, server, args) {
      const key = callKey(tool, server, args);
      return {
        async approve(request): Promise<ApprovalAnswer> {
          if (aborted) return { approved: false, by: "user", message: "The agent was aborted at an earlier prompt" };
          if (keys.has(key)) return { approved: true, approver: `${who()} (session)` };
          const { action, verdict } = request;
          if (!ctx.prompt.interactive) {
            return { approved: false, by: "no-tty", message: `Needs approval (${verdict.rule}: ${verdict.reason}) and there is no terminal to ask on; run the agent with --yes to approve in advance` };
          }
          const s = ctx.io.errStyle;
          const t = action.target;
          const where = t.host ? `${t.user ? `${t.user}@` : ""}${t.host}${t.port && t.port !== 22 ? `:${t.port}` : ""}` : action.server;
          ctx.io.err("");
          ctx.io.err(`${s.bold(action.server)} ${s.dim(`(${where}${action.tier ? `, ${action.tier}` : ""})`)} ${s.dim(`${tool} → ${action.kind}`)}`);
          for (const line of request.display.split("\n")) ctx.io.err(`  ${colourDiff(line, s)}`);
          ctx.io.err(`${s.yellow("approval required")} ${s.dim(`${verdict.rule}:`)} ${verdict.reason}`);
          let choice: Choice;
          try {
            choice = await ctx.prompt.select<Choice>(
            "Allow it?",
            [
              { value: "once", label: "yes, once" },
              { value: "session", label: "session: yes, and this same call again without asking" },
              { value: "deny", label: "no: the model is told it was denied" },
              { value: "abort", label: "abort the agent" },
            ],
            "deny",
            );
          } catch (error) {
            interrupted = true;
            aborted = true;
            return { approved: false, by: "user", message: `Interrupted at the prompt (${(error as Error).message})` };
          }
          if (choice === "once") return { approved: true, approver: who() };
          if (choice === "session") {
            keys.add(key);
            return { approved: true, approver: `${who()} (session)` };
          }
          if (choice === "abort") {
            aborted = true;
            return { approved: false, by: "user", message: "Aborted at the prompt" };
          }
          return { approved: false, by: "user", message: "Denied at the prompt" };
        },
      };
    },
  };
}

function colourDiff(line: string, s: CommandContext["io"]["errStyle"]): string {
  if (line.startsWith("+") && !line.startsWith("+++")) return s.green(line);
  if (line.startsWith("-") && !line.startsWith("---")) return s.red(line);
  if (line.startsWith("@@")) return s.cyan(line);
  return line;
}
