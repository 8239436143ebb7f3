/**
 * The gate (src/kernel/actions.ts) with test executors: the order of the steps, fail-closed
 * refusals, approvers, secret expansion and masking, snapshots through hooks, and who may register
 * an executor.
 */
import { describe, expect, it } from "vitest";
import { definePlugin, IoError, type AuditInput, type ExecuteOutcome, type Executor, type OpstermPlugin, type Verdict } from "../../src/kernel/index.ts";
import { exitCodeFor } from "../../src/kernel/actions.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

const allow: Verdict = { decision: "auto-allow", rule: "allow.inspect", reason: "read-only" };
const ask: Verdict = { decision: "approval-required", rule: "default", reason: "not on the allow-list" };
const reject: Verdict = { decision: "reject", rule: "hard.rm-root", reason: "deletes /" };

function policy(decide: () => Verdict | undefined | Promise<Verdict | undefined>): OpstermPlugin {
  return definePlugin({ name: "policy", apiVersion: 1, enforce: "pre", hooks: { beforeAction: decide } });
}

function audit(options: { failOn?: "intent" | "result" } = {}) {
  const records: AuditInput[] = [];
  const plugin = definePlugin({
    name: "audit",
    apiVersion: 1,
    enforce: "pre",
    setup: (ctx) =>
      ctx.provide("audit", {
        async append(input: AuditInput) {
          if (options.failOn === input.phase) throw new IoError("E_AUDIT_WRITE", "disk full");
          records.push(structuredClone(input));
          return { seq: records.length };
        },
      } as never),
    hooks: {
      beforeFileWrite: (w) => ({ commit: `before-${w.path}`, path: `snap${w.path}` }),
      afterFileWrite: (w) => ({ commit: `after-${w.path}`, path: `snap${w.path}` }),
    },
  });
  return { plugin, records };
}

/** A transport plugin with one executor of `kind` that records what it got. */
function transport(kind: "exec" | "write" = "exec", outcome: (command: string) => ExecuteOutcome | Promise<ExecuteOutcome> = () => ({ exitCode: 0, completed: true, stdout: "ok\n" })) {
  const calls: { command: string; auditSeen: number }[] = [];
  let records: AuditInput[] = [];
  const executor: Executor = {
    kind,
    async resolve(request) {
      if (request.target === "nowhere") throw new IoError("E_TARGET", `Unknown server "${request.target}"`, { exitCode: 2 });
      return { id: request.target, tier: "prod", host: "10.0.0.1", port: 22, scope: "global" };
    },
    async execute(run) {
      calls.push({ command: run.command, auditSeen: records.length });
      if (kind === "write") {
        await run.snapshot("before", run.action.path!, null);
        await run.snapshot("after", run.action.path!, Buffer.from("x"));
      }
      return outcome(run.command);
    },
  };
  const plugin = definePlugin({ name: `transport-${kind}`, apiVersion: 1, setup: (ctx) => ctx.registerExecutor(executor) });
  return { plugin, calls, watch: (r: AuditInput[]) => (records = r) };
}

describe("the gate fails closed", () => {
  it("no policy plugin: rejected, the executor never runs (77)", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([a.plugin, t.plugin]);
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "uptime" }, { preApproved: true });
    expect(t.calls).toHaveLength(0);
    expect(r).toMatchObject({ attempted: false, verdict: { rule: "kernel.no-policy" } });
    expect(exitCodeFor(r)).toBe(77);
  });

  it("a throwing policy, a malformed verdict: rejected", async () => {
    for (const decide of [() => { throw new Error("rules broken"); }, () => ({ decision: "yes-please" }) as unknown as Verdict]) {
      const a = audit();
      const t = transport();
      const { ctx } = await createTestKernel([policy(decide), a.plugin, t.plugin]);
      const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "uptime" }, { preApproved: true });
      expect(t.calls).toHaveLength(0);
      expect(r.verdict?.decision).toBe("reject");
      expect(exitCodeFor(r)).toBe(77);
    }
  });

  it("no audit plugin, or an intent that cannot be written: nothing runs (74)", async () => {
    const none = transport();
    const k1 = await createTestKernel([policy(() => allow), none.plugin]);
    const r1 = await k1.ctx.actions.run({ kind: "exec", target: "web1", command: "uptime" });
    expect(none.calls).toHaveLength(0);
    expect(r1.error?.code).toBe("E_AUDIT_MISSING");
    expect(exitCodeFor(r1)).toBe(74);

    const a = audit({ failOn: "intent" });
    const t = transport();
    const k2 = await createTestKernel([policy(() => allow), a.plugin, t.plugin]);
    const r2 = await k2.ctx.actions.run({ kind: "exec", target: "web1", command: "uptime" });
    expect(t.calls).toHaveLength(0);
    expect(r2).toMatchObject({ attempted: false, error: { code: "E_AUDIT_WRITE" } });
    expect(exitCodeFor(r2)).toBe(74);
  });

  it("a reject is recorded as an event and never runs, even pre-approved", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => reject), a.plugin, t.plugin]);
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "rm -rf /" }, { preApproved: true });
    expect(t.calls).toHaveLength(0);
    expect(a.records.map((x) => `${x.action}/${x.phase}`)).toEqual(["approval/event"]);
    expect(exitCodeFor(r)).toBe(77);
  });

  it("approval-required with no terminal is denied unless pre-approved; the approver is recorded", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => ask), a.plugin, t.plugin]);
    const denied = await ctx.actions.run({ kind: "exec", target: "web1", command: "systemctl restart nginx" });
    expect(t.calls).toHaveLength(0);
    expect(denied.error).toMatchObject({ code: "E_APPROVAL_DENIED", message: expect.stringMatching(/no terminal/) });
    expect(a.records.at(-1)).toMatchObject({ phase: "event", approver: "refused:no-tty" });
    const yes = await ctx.actions.run({ kind: "exec", target: "web1", command: "systemctl restart nginx" }, { preApproved: "workflow:deploy" });
    expect(t.calls).toHaveLength(1);
    expect(yes.approver).toBe("workflow:deploy");
    expect(a.records.filter((x) => x.phase === "intent")).toMatchObject([{ approver: "workflow:deploy" }]);
  });

  it("an approver decides for the whole set (a fan-out, an MCP queue); its refusal is recorded", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => ask), a.plugin, t.plugin]);
    const asked: string[] = [];
    const approver = { approve: async ({ display }: { display: string }) => (asked.push(display), { approved: false as const, by: "mcp-queue", message: "expired" }) };
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "reboot" }, { approver });
    expect(asked).toEqual(["reboot"]);
    expect(r.error).toMatchObject({ code: "E_APPROVAL_DENIED", message: "expired" });
    expect(a.records.at(-1)).toMatchObject({ approver: "refused:mcp-queue" });
  });

  it("the duration of an approved action excludes the time the approver took", async () => {
    const a = audit();
    const t = transport("exec", async () => {
      await new Promise((r) => setTimeout(r, 50));
      return { exitCode: 0, completed: true };
    });
    const { ctx } = await createTestKernel([policy(() => ask), a.plugin, t.plugin]);
    // A person who takes 1.5 s to answer the prompt.
    const approver = { approve: async () => (await new Promise((r) => setTimeout(r, 1500)), { approved: true as const, approver: "tty:slow" }) };
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "touch /tmp/x" }, { approver });
    expect(r.exitCode).toBe(0);
    expect(r.durationMs).toBeGreaterThanOrEqual(45);
    expect(r.durationMs).toBeLessThan(1400);
    expect(a.records.find((x) => x.phase === "result")!.durationMs).toBeLessThan(1400);
  });

  it("an unknown target or kind is an error before any record", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, t.plugin]);
    const unknown = await ctx.actions.run({ kind: "exec", target: "nowhere", command: "uptime" });
    expect(unknown).toMatchObject({ attempted: false, error: { code: "E_TARGET" } });
    expect(exitCodeFor(unknown)).toBe(2);
    const noKind = await ctx.actions.run({ kind: "find", target: "web1", path: "/", params: { pattern: "*" } });
    expect(noKind.error?.code).toBe("E_NO_EXECUTOR");
    expect(exitCodeFor(noKind)).toBe(69);
    const invalid = await ctx.actions.run({ kind: "exec", target: "-oProxyCommand=x", command: "uptime" });
    expect(invalid.error?.code).toBe("E_ACTION_INVALID");
    expect(a.records).toEqual([]);
  });
});

describe("a run", () => {
  it("writes exactly one intent before the executor and one result after, with the target's scope and address", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, t.plugin]);
    t.watch(a.records);
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "uptime", origin: "ai", actor: "ai:openai/gpt-4o", conversation: "c-1" });
    expect(t.calls).toEqual([{ command: "uptime", auditSeen: 1 }]);
    expect(a.records.map((x) => x.phase)).toEqual(["intent", "result"]);
    expect(a.records[0]).toMatchObject({ actor: "ai:openai/gpt-4o", server: "web1", args: { command: "uptime", target: { scope: "global", host: "10.0.0.1", port: 22 }, conversation: "c-1" } });
    expect(r).toMatchObject({ attempted: true, completed: true, exitCode: 0, stdout: "ok\n", auditSeq: 1, auditStatus: "written" });
    expect(r.action).toMatchObject({ tier: "prod", origin: "ai" });
  });

  it("a write's snapshots come from the snapshot hooks into the result record, not through shared objects", async () => {
    const a = audit();
    const t = transport("write");
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, t.plugin]);
    const r = await ctx.actions.run({ kind: "write", target: "web1", path: "/etc/motd" });
    expect(r.snapshots).toEqual([{ remote: "/etc/motd", before: { commit: "before-/etc/motd", path: "snap/etc/motd" }, after: { commit: "after-/etc/motd", path: "snap/etc/motd" } }]);
    expect(a.records[1]).toMatchObject({ snapshot: { path: "snap/etc/motd", before: "before-/etc/motd", after: "after-/etc/motd" } });
  });

  it("a write with nobody to take its snapshots fails before writing (74)", async () => {
    const a = audit();
    const noSnapshots = definePlugin({ ...a.plugin, hooks: {} });
    const t = transport("write");
    const { ctx } = await createTestKernel([policy(() => allow), noSnapshots, t.plugin]);
    const r = await ctx.actions.run({ kind: "write", target: "web1", path: "/etc/motd" });
    expect(r.error?.code).toBe("E_SNAPSHOT_MISSING");
    expect(exitCodeFor(r)).toBe(74);
  });

  it("expandAction resolves references for the executor only; audit keeps the placeholder; output is masked", async () => {
    const a = audit();
    const t = transport("exec", (command) => ({ exitCode: 0, completed: true, stdout: `got ${command.split(" ").at(-1)}\n` }));
    const vault = definePlugin({
      name: "vault-test",
      apiVersion: 1,
      hooks: { expandAction: (x) => ({ ...x, command: x.command.replace("${vault:db}", "'s3cr3t-pw'"), secrets: [...x.secrets, "s3cr3t-pw"] }) },
    });
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, vault, t.plugin]);
    const streamed: string[] = [];
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "psql -c select --password ${vault:db}" }, { io: { onStdout: (c) => void streamed.push(c.toString()) } });
    expect(t.calls[0].command).toBe("psql -c select --password 's3cr3t-pw'");
    expect(JSON.stringify(a.records)).not.toContain("s3cr3t-pw");
    expect(a.records[0].args.command).toBe("psql -c select --password ${vault:db}");
    expect(r.stdout).toBe("got '[REDACTED:vault]'\n");
  });

  it("masking streamed output keeps characters split across chunks and catches a secret split across chunks", async () => {
    const a = audit();
    const streamer: Executor = {
      kind: "exec",
      resolve: async (request) => ({ id: request.target }),
      async execute(run) {
        const bytes = Buffer.from("café s3cr3t-pw done\n");
        // Split inside "é" (2 bytes) and inside the secret.
        for (const part of [bytes.subarray(0, 4), bytes.subarray(4, 9), bytes.subarray(9)]) await run.io.onStdout?.(part);
        return { exitCode: 0, completed: true };
      },
    };
    const plugin = definePlugin({ name: "streamer", apiVersion: 1, setup: (ctx) => ctx.registerExecutor(streamer) });
    const vault = definePlugin({ name: "vault-test", apiVersion: 1, hooks: { expandAction: (x) => ({ ...x, secrets: ["s3cr3t-pw"] }) } });
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, vault, plugin]);
    const seen: Buffer[] = [];
    await ctx.actions.run({ kind: "exec", target: "web1", command: "x" }, { io: { onStdout: (c) => void seen.push(c) } });
    expect(Buffer.concat(seen).toString("utf8")).toBe("café [REDACTED:vault] done\n");
  });

  it("checkAction refuses before classification (an unknown secret name), nothing recorded", async () => {
    const a = audit();
    const t = transport();
    const strict = definePlugin({ name: "names", apiVersion: 1, hooks: { checkAction: () => { throw new IoError("E_VAULT_UNKNOWN", "no such secret", { exitCode: 78 }); } } });
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, strict, t.plugin]);
    const r = await ctx.actions.run({ kind: "exec", target: "web1", command: "echo ${vault:nope}" });
    expect(r.error).toMatchObject({ code: "E_VAULT_UNKNOWN" });
    expect(exitCodeFor(r)).toBe(78);
    expect(t.calls).toHaveLength(0);
    expect(a.records).toEqual([]);
  });

  it("preview gives the verdict without running or recording anything", async () => {
    const a = audit();
    const t = transport();
    const { ctx } = await createTestKernel([policy(() => ask), a.plugin, t.plugin]);
    const p = await ctx.actions.preview({ kind: "exec", target: "web1", command: "reboot" });
    expect(p.verdict).toMatchObject({ decision: "approval-required" });
    expect(p.action?.tier).toBe("prod");
    expect(t.calls).toHaveLength(0);
    expect(a.records).toEqual([]);
  });

  it("two concurrent actions with different actors keep separate records", async () => {
    const a = audit();
    const t = transport("exec", async (command) => {
      await new Promise((r) => setTimeout(r, command === "slow" ? 30 : 1));
      return { exitCode: 0, completed: true, stdout: command };
    });
    const seen: { actor: string; command: string }[] = [];
    const after = definePlugin({ name: "recorder", apiVersion: 1, hooks: { afterAction: (r) => void seen.push({ actor: r.action.actor, command: r.action.command }) } });
    const { ctx } = await createTestKernel([policy(() => allow), a.plugin, t.plugin, after]);
    const [x, y] = await Promise.all([
      ctx.actions.run({ kind: "exec", target: "web1", command: "slow", actor: "mcp:claude-code", runId: "run-a" }),
      ctx.actions.run({ kind: "exec", target: "web2", command: "fast", actor: "ai:ollama/qwen", runId: "run-b" }),
    ]);
    expect([x.stdout, y.stdout]).toEqual(["slow", "fast"]);
    const byRun = (id: string) => a.records.filter((r) => r.runId === id).map((r) => `${r.actor}:${r.args.command}:${r.phase}`);
    expect(byRun("run-a")).toEqual(["mcp:claude-code:slow:intent", "mcp:claude-code:slow:result"]);
    expect(byRun("run-b")).toEqual(["ai:ollama/qwen:fast:intent", "ai:ollama/qwen:fast:result"]);
    expect(seen.sort((p, q) => p.command.localeCompare(q.command))).toEqual([
      { actor: "ai:ollama/qwen", command: "fast" },
      { actor: "mcp:claude-code", command: "slow" },
    ]);
  });
});

describe("executors belong to built-in plugins", () => {
  it("a user plugin cannot register an executor or use a built-in-only service", async () => {
    const failures: string[] = [];
    const sneaky = definePlugin({
      name: "sneaky",
      apiVersion: 1,
      setup(ctx) {
        try {
          ctx.registerExecutor({ kind: "exec", resolve: async () => ({ id: "x" }), execute: async () => ({ exitCode: 0, completed: true }) });
        } catch (error) {
          failures.push((error as { code: string }).code);
        }
        try {
          ctx.use("ssh.connections");
        } catch (error) {
          failures.push((error as { code: string }).code);
        }
      },
    });
    const provider = definePlugin({ name: "provider", apiVersion: 1, setup: (ctx) => ctx.provide("ssh.connections", { lease: async () => { throw new Error("never"); } }, { builtinOnly: true }) });
    const { kernel } = await createTestKernel([provider, { plugin: sneaky, source: "user" }]);
    expect(failures).toEqual(["E_EXECUTOR_PRIVATE", "E_SERVICE_PRIVATE"]);
    expect(kernel.actions.kinds()).toEqual([]);
  });

  it("two plugins cannot serve the same kind", async () => {
    const one = transport();
    const two = definePlugin({ ...transport().plugin, name: "second" });
    const { kernel } = await createTestKernel([one.plugin, two]);
    expect(kernel.facts.failures).toMatchObject([{ name: "second", code: "E_EXECUTOR_CONFLICT" }]);
  });
});
