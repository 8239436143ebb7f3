/**
 * The system prompt: where the user is (OS, shell), optionally the target server's facts, and
 * the one format rule the command offer relies on (commands in fenced bash blocks).
 */
import { arch, release, type } from "node:os";
import { basename } from "node:path";

export interface TargetFacts {
  id: string;
  [fact: string]: unknown;
}

const SECRET_FACT = /(key|token|secret|password|passphrase)/i;

/** `userPrompt`: the user's own instructions (`ai.system_prompt`), added after opsterm's rules. */
export function systemPrompt(env: Record<string, string | undefined>, target?: TargetFacts, userPrompt?: string): string {
  const shell = env.SHELL ? basename(env.SHELL) : "sh";
  const lines = [
    "You are opsterm, an assistant in the terminal of a person who runs servers.",
    `The user's machine: ${type()} ${release()} (${arch()}), shell ${shell}.`,
  ];
  if (target) {
    const facts = Object.entries(target)
      .filter(([k, v]) => !SECRET_FACT.test(k) && v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v)))
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`);
    lines.push(`Commands will run on the server "${target.id}" over SSH, not on the user's machine. Server facts: ${facts.join("; ")}.`);
  }
  lines.push(
    "Be concise and concrete. Explain what you are unsure about.",
    "Put every command the user might run in its own fenced code block tagged bash (```bash ... ```), one command per block, without a leading $ prompt.",
    "Prefer read-only diagnostic commands first; say clearly when a command changes the system or deletes data.",
  );
  if (userPrompt) lines.push("", "The user's own instructions:", userPrompt);
  return lines.join("\n");
}
