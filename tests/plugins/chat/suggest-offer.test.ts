import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { definePlugin, type CommandContext, type HistoryEvent } from "../../../src/kernel/index.ts";
import type { Prompter } from "../../../src/lib/prompt.ts";
import auditPlugin from "../../../plugins/audit/index.ts";
import policyPlugin from "../../../plugins/policy/index.ts";
import localPlugin from "../../../plugins/local/index.ts";
import { executionEvent } from "../../../plugins/history/from-action.ts";
import { offerCommands } from "../../../plugins/chat/suggest.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";

/** Answers prompts from a script, like a person at a terminal would; records what was asked. */
function scripted(answers: string[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = () => answers.shift() ?? "";
  return {
    interactive: true,
    asked,
    async confirm(message) {
      asked.push(`confirm:${message.trim()}`);
      return next() === "y";
    },
    async select(message, choices, def) {
      asked.push(`select:${choices.map((c) => c.value).join("/")}:${def}`);
      const a = next();
      return (choices.find((c) => c.value === a)?.value ?? def) as never;
    },
    async text(message, options) {
      asked.push(`text:${options?.default ?? ""}`);
      return next();
    },
  };
}

async function world(plugins = [policyPlugin, auditPlugin]) {
  const history: HistoryEvent[] = [];
  // What the history plugin would store: every action that ran, from the gate's result.
  const recorder = definePlugin({ name: "recorder", apiVersion: 1, hooks: { afterAction: (r) => void (r.attempted && history.push(executionEvent(r))) } });
  const t = await createTestKernel([...plugins, localPlugin, recorder]);
  return {
    ...t,
    history,
    with(prompt: Prompter): CommandContext {
      // The gate asks its questions on the invocation's prompter: bind it to this one.
      const ctx = { ...t.ctx, prompt };
      ctx.actions = t.kernel.actions.bind(ctx);
      return ctx;
    },
  };
}

describe("offerCommands()", () => {
  it("runs an auto-allowed command on Execute, with audit intent+result and a history row", async () => {
    const w = await world();
    const prompt = scripted(["execute"]);
    const command = `ls ${join(w.home, "no-such-dir")}`;
    const results = await offerCommands(w.with(prompt), [command]);
    // ls exits 2 for a missing path: the exit code proves bash really ran it.
    expect(results[0]).toMatchObject({ action: "executed", exitCode: 2, verdict: { decision: "auto-allow" } });
    expect(prompt.asked).toEqual(["select:execute/modify/describe/abort:abort"]);
    const audit = readFileSync(join(w.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(audit.map((r) => r.phase)).toEqual(["intent", "result"]);
    expect(audit[0]).toMatchObject({ server: "local", action: "local", decision: "auto-allow", args: { command } });
    expect(audit[1]).toMatchObject({ exitCode: 2 });
    expect(w.history).toEqual([expect.objectContaining({ mode: "exec", server: "local", command, exitCode: 2, origin: "ai" })]);
  });

  it("runs an approval-required command after an explicit yes, recording the approver", async () => {
    const w = await world();
    const marker = join(w.home, "touched");
    const prompt = scripted(["execute", "y"]);
    const results = await offerCommands(w.with(prompt), [`touch ${marker}`]);
    expect(results[0]).toMatchObject({ action: "executed", exitCode: 0, verdict: { decision: "approval-required" } });
    expect(existsSync(marker)).toBe(true);
    const audit = readFileSync(join(w.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(audit[0]).toMatchObject({ phase: "intent", approver: "tty:tester", decision: "approval-required" });
  });

  it("never offers a rejected command", async () => {
    const w = await world();
    const prompt = scripted(["execute"]);
    const results = await offerCommands(w.with(prompt), ["rm -rf /"]);
    expect(results[0]).toMatchObject({ action: "rejected", verdict: { decision: "reject" } });
    expect(prompt.asked).toEqual([]);
    expect(w.stderr()).toContain("not offered");
  });

  it("fails closed without a policy plugin: the gate rejects, nothing is offered", async () => {
    const w = await world([auditPlugin]);
    const prompt = scripted(["execute"]);
    const results = await offerCommands(w.with(prompt), ["uptime"]);
    expect(results[0]).toMatchObject({ action: "rejected", verdict: { decision: "reject", rule: "kernel.no-policy" } });
    expect(prompt.asked).toEqual([]);
  });

  it("fails closed without an audit service: nothing runs, no history row, status 74", async () => {
    const w = await world([policyPlugin]);
    const marker = join(w.home, "ran");
    const prompt = scripted(["execute", "y"]);
    const results = await offerCommands(w.with(prompt), [`touch ${marker}`]);
    expect(results[0]).toMatchObject({ action: "refused", status: 74 });
    expect(existsSync(marker)).toBe(false);
    expect(w.history).toEqual([]);
  });

  it("approval-required needs an explicit yes; no means nothing runs", async () => {
    const w = await world();
    const marker = join(w.home, "restarted");
    const command = `systemctl restart nginx || touch ${marker}`;
    const prompt = scripted(["execute", "n"]);
    const results = await offerCommands(w.with(prompt), [command]);
    expect(results[0].verdict.decision).toBe("approval-required");
    expect(results[0].action).toBe("refused");
    expect(prompt.asked[1]).toMatch(/^confirm:Run it\?/);
    expect(w.stderr()).toMatch(/approval required/);
    expect(existsSync(marker)).toBe(false);
  });

  it("Describe explains the command and offers it again; nothing runs until Execute", async () => {
    const w = await world();
    const described: string[] = [];
    const prompt = scripted(["describe", "abort"]);
    const results = await offerCommands(w.with(prompt), ["uptime"], { describe: async (c) => void described.push(c) });
    expect(described).toEqual(["uptime"]);
    expect(prompt.asked).toEqual(["select:execute/modify/describe/abort:abort", "select:execute/modify/describe/abort:abort"]);
    expect(results).toEqual([expect.objectContaining({ command: "uptime", action: "aborted" })]);
    expect(w.history).toEqual([]);
    expect(existsSync(join(w.home, "audit", "audit.jsonl"))).toBe(false);
  });

  it("Abort is the default and stops the remaining offers; Modify reclassifies the edited command", async () => {
    const w = await world();
    const prompt = scripted(["modify", "rm -rf /", "", "never-asked"]);
    const results = await offerCommands(w.with(prompt), ["uptime", "df -h"]);
    // The edit turned it into a rejected command: shown, not offered; the next one is aborted by default.
    expect(results.map((r) => r.action)).toEqual(["rejected", "aborted"]);
    expect(prompt.asked).toEqual(["select:execute/modify/describe/abort:abort", "text:uptime", "select:execute/modify/describe/abort:abort"]);
  });
});
