import { describe, expect, it } from "vitest";
import { definePlugin, IoError, type OpstermPlugin, type RemoteAction, type Verdict } from "../../src/kernel/index.ts";
import { exitCodeFor, runRemoteAction, type ExecuteOutcome } from "../../src/lib/remote-action.ts";
import type { AuditInput as OrchestratorAuditInput, AuditSink, PolicyClassifier } from "../../src/lib/remote-action.ts";
import type { AuditInput, AuditService } from "../../plugins/audit/types.ts";
import type { PolicyService } from "../../plugins/policy/types.ts";

// Compile-time contract (npm run typecheck): the orchestrator declares what it needs of the audit
// and policy services instead of importing plugin types, and the real services must fit it.
export const contract = {
  record: (input: OrchestratorAuditInput): AuditInput => input,
  audit: (service: AuditService): AuditSink => service,
  policy: (service: PolicyService): PolicyClassifier => service,
};
import { createTestKernel } from "../helpers/test-kernel.ts";

const action = (over: Partial<RemoteAction> = {}): RemoteAction => ({
  kind: "exec",
  server: "web1",
  command: "uptime",
  origin: "user",
  runId: "run-1",
  ...over,
});

function policyPlugin(classify: (command: string) => Verdict): OpstermPlugin {
  return definePlugin({ name: "policy", apiVersion: 1, setup: (ctx) => ctx.provide("policy", { classify }) });
}

const allow: Verdict = { decision: "auto-allow", rule: "allow.inspect", reason: "read-only" };
const ask: Verdict = { decision: "approval-required", rule: "default", reason: "not on the allow-list" };
const reject: Verdict = { decision: "reject", rule: "hard.rm-root", reason: "deletes /" };

function auditPlugin(options: { failOn?: "intent" | "result" } = {}) {
  const records: AuditInput[] = [];
  const plugin = definePlugin({
    name: "audit",
    apiVersion: 1,
    setup: (ctx) =>
      ctx.provide("audit", {
        async append(input) {
          if (options.failOn === input.phase) throw new IoError("E_AUDIT_WRITE", "disk full");
          records.push(input);
          return { ...input, seq: records.length, ts: "", prevHash: "", hash: "" };
        },
        async snapshot() {
          return { commit: "c", path: "p" };
        },
      }),
  });
  return { plugin, records };
}

/** An executor that records whether it ran and what the audit log held at that moment. */
function executor(records?: AuditInput[], outcome: ExecuteOutcome = { exitCode: 0, completed: true, stdout: "ok\n" }) {
  const calls: { auditSeen: string[] }[] = [];
  const fn = async () => {
    calls.push({ auditSeen: (records ?? []).map((r) => r.phase) });
    return outcome;
  };
  return { fn, calls };
}

describe("runRemoteAction() fails closed", () => {
  it("refuses when no policy plugin is loaded, and never executes", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([audit.plugin]);
    const exec = executor(audit.records);
    const result = await runRemoteAction(ctx, action(), exec.fn, { preApproved: true });
    expect(exec.calls).toHaveLength(0);
    expect(result.attempted).toBe(false);
    expect(result.verdict?.rule).toBe("kernel.no-policy");
    expect(exitCodeFor(result)).toBe(77);
  });

  it("refuses when the policy throws", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => { throw new Error("rules broken"); }), audit.plugin]);
    const exec = executor(audit.records);
    const result = await runRemoteAction(ctx, action(), exec.fn, { preApproved: true });
    expect(exec.calls).toHaveLength(0);
    expect(result.verdict).toMatchObject({ decision: "reject", rule: "kernel.policy-error" });
    expect(exitCodeFor(result)).toBe(77);
  });

  it("refuses a malformed verdict", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => ({ decision: "yes-please" }) as unknown as Verdict), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn, { preApproved: true });
    expect(exec.calls).toHaveLength(0);
    expect(result.verdict?.decision).toBe("reject");
  });

  it("refuses a non-exec action that no plugin decided on", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action({ kind: "write", path: "/etc/motd" }), exec.fn, { preApproved: true });
    expect(exec.calls).toHaveLength(0);
    expect(result.verdict?.rule).toBe("kernel.no-decision");
  });

  it("does not run when no audit plugin is loaded (exit 74)", async () => {
    const { ctx } = await createTestKernel([policyPlugin(() => allow)]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(result.error?.code).toBe("E_AUDIT_MISSING");
    expect(exitCodeFor(result)).toBe(74);
  });

  it("does not run when the audit intent cannot be written (exit 74)", async () => {
    const audit = auditPlugin({ failOn: "intent" });
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(result).toMatchObject({ attempted: false, auditStatus: "failed", error: { code: "E_AUDIT_WRITE" } });
    expect(exitCodeFor(result)).toBe(74);
  });

  it("writes the intent before executing and the result after", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin]);
    const exec = executor(audit.records);
    const result = await runRemoteAction(ctx, action(), exec.fn);
    expect(exec.calls).toEqual([{ auditSeen: ["intent"] }]);
    expect(audit.records.map((r) => r.phase)).toEqual(["intent", "result"]);
    expect(audit.records[1]).toMatchObject({ exitCode: 0, decision: "auto-allow", rule: "allow.inspect", server: "web1", actor: "tester (user)" });
    expect(result).toMatchObject({ attempted: true, completed: true, exitCode: 0, auditStatus: "written" });
    expect(exitCodeFor(result)).toBe(0);
  });

  it("records a session as session-start (intent) and session-end (result)", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin, definePlugin({ name: "sessions", apiVersion: 1, hooks: { beforeRemoteAction: () => allow } })]);
    const result = await runRemoteAction(ctx, action({ kind: "session", command: "ssh web1" }), async () => ({ exitCode: 130, completed: true }));
    expect(audit.records.map((r) => `${r.action}/${r.phase}`)).toEqual(["session-start/intent", "session-end/result"]);
    expect(audit.records[1].exitCode).toBe(130);
    expect(exitCodeFor(result)).toBe(130);
  });

  it("says once, and first, that nothing was run when the intent fails", async () => {
    const full = definePlugin({
      name: "audit",
      apiVersion: 1,
      setup: (ctx) =>
        ctx.provide("audit", {
          append: () => Promise.reject(new IoError("E_AUDIT_WRITE", "Audit log /x/audit.jsonl could not be written: the disk is full (ENOSPC); nothing was run")),
          snapshot: () => Promise.reject(new Error("unused")),
        }),
    });
    const { ctx } = await createTestKernel([policyPlugin(() => allow), full]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(result.error?.message).toBe("Audit intent could not be written, so nothing was run: Audit log /x/audit.jsonl could not be written: the disk is full (ENOSPC)");
  });

  it("reports a failed result record as a partial failure, not success", async () => {
    const audit = auditPlugin({ failOn: "result" });
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin]);
    const result = await runRemoteAction(ctx, action(), executor().fn);
    expect(result.auditStatus).toBe("partial");
    expect(exitCodeFor(result)).toBe(74);
  });
});

describe("runRemoteAction() approval", () => {
  it("denies approval-required without a TTY (exit 77) and records the refusal", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => ask), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(result.error?.code).toBe("E_APPROVAL_DENIED");
    expect(result.error?.message).toMatch(/--yes/);
    expect(exitCodeFor(result)).toBe(77);
    expect(audit.records).toMatchObject([{ phase: "event", action: "approval", approver: "refused:no-tty" }]);
  });

  it("runs approval-required with --yes and records the approver", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => ask), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action(), exec.fn, { preApproved: true });
    expect(exec.calls).toHaveLength(1);
    expect(result.approver).toBe("flag:--yes");
    expect(audit.records[0]).toMatchObject({ phase: "intent", approver: "flag:--yes" });
  });

  it("never runs a rejected command, not even with --yes", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => reject), audit.plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action({ command: "rm -rf /" }), exec.fn, { preApproved: true, approve: async () => "someone" });
    expect(exec.calls).toHaveLength(0);
    expect(result.error?.code).toBe("E_POLICY_REJECT");
    expect(exitCodeFor(result)).toBe(77);
  });

  it("lets a plugin hook make a verdict stricter but never looser", async () => {
    const audit = auditPlugin();
    const loosener = definePlugin({ name: "loosener", apiVersion: 1, hooks: { beforeRemoteAction: () => allow } });
    const { ctx } = await createTestKernel([policyPlugin(() => ask), loosener, audit.plugin]);
    expect((await runRemoteAction(ctx, action(), executor().fn)).error?.code).toBe("E_APPROVAL_DENIED");

    const vetoer = definePlugin({ name: "vetoer", apiVersion: 1, hooks: { beforeRemoteAction: () => ({ decision: "reject", rule: "user.no-fridays", reason: "frozen" }) } });
    const k2 = await createTestKernel([policyPlugin(() => allow), vetoer, auditPlugin().plugin]);
    const exec = executor();
    const result = await runRemoteAction(k2.ctx, action(), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(result.verdict).toMatchObject({ rule: "user.no-fridays", by: "vetoer" });
  });

  it("uses a custom approver once given (fan-out asks once)", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => ask), audit.plugin]);
    const denied = await runRemoteAction(ctx, action(), executor().fn, { approve: async () => false });
    expect(denied.error?.code).toBe("E_APPROVAL_DENIED");
    const approved = await runRemoteAction(ctx, action(), executor().fn, { approve: async () => "tty:alice" });
    expect(approved.approver).toBe("tty:alice");
  });
});

describe("runRemoteAction() outcomes", () => {
  it("treats a lost connection as exit status unknown (255), never success", async () => {
    const { ctx } = await createTestKernel([policyPlugin(() => allow), auditPlugin().plugin]);
    const result = await runRemoteAction(ctx, action(), async () => ({ exitCode: 0, completed: false, error: { code: "E_SSH_LOST", message: "connection lost" } }));
    expect(result.completed).toBe(false);
    expect(result.exitCode).toBeNull();
    expect(exitCodeFor(result)).toBe(255);
  });

  it("turns a throwing executor into a failed, audited result", async () => {
    const audit = auditPlugin();
    const { ctx } = await createTestKernel([policyPlugin(() => allow), audit.plugin]);
    const result = await runRemoteAction(ctx, action(), async () => {
      throw new Error("boom");
    });
    expect(result).toMatchObject({ attempted: true, completed: false, error: { code: "E_EXECUTE", message: "boom" } });
    expect(audit.records.map((r) => r.phase)).toEqual(["intent", "result"]);
  });

  it("passes the remote exit code through", async () => {
    const { ctx } = await createTestKernel([policyPlugin(() => allow), auditPlugin().plugin]);
    const result = await runRemoteAction(ctx, action(), async () => ({ exitCode: 3, completed: true }));
    expect(exitCodeFor(result)).toBe(3);
  });

  it("rejects server ids that could be read as options", async () => {
    const { ctx } = await createTestKernel([policyPlugin(() => allow), auditPlugin().plugin]);
    const exec = executor();
    const result = await runRemoteAction(ctx, action({ server: "-oProxyCommand=x" }), exec.fn);
    expect(exec.calls).toHaveLength(0);
    expect(exitCodeFor(result)).toBe(2);
  });
});
