/**
 * The approvals queue (plugins/mcp/approvals.ts) and `opsterm approvals`: binding to server +
 * tool + arguments, one use per approval, expiry after 10 minutes, the approver's wait and its
 * outcomes (approved, denied, timeout, cancelled), the 0600 file, the CLI's errors.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApprovalQueue, APPROVAL_TTL_MS, bindingHash, canonicalJson, queueApprover } from "../../../plugins/mcp/approvals.ts";
import type { ApprovalRequest } from "../../../src/kernel/index.ts";
import { runInProcess } from "../../helpers/run-cli.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opsterm-approvals-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const input = (over: Record<string, unknown> = {}) => ({
  hash: bindingHash("web1", "remote_exec", { server: "web1", command: "systemctl restart nginx" }),
  server: "web1",
  tool: "remote_exec",
  kind: "exec",
  display: "systemctl restart nginx",
  rule: "default",
  reason: "systemctl is not on the allow-list",
  actor: "mcp:test",
  ...over,
});

function request(server = "web1", command = "systemctl restart nginx"): ApprovalRequest {
  return {
    action: { kind: "exec", server, command, origin: "mcp", actor: "mcp:test", runId: "r", target: { id: server } },
    verdict: { decision: "approval-required", rule: "default", reason: "not on the allow-list" },
    display: command,
  } as ApprovalRequest;
}

describe("binding", () => {
  it("the hash covers server, tool and arguments, whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    const a = bindingHash("web1", "remote_exec", { server: "web1", command: "ls", cwd: "/" });
    expect(bindingHash("web1", "remote_exec", { cwd: "/", command: "ls", server: "web1" })).toBe(a);
    expect(bindingHash("web2", "remote_exec", { server: "web1", command: "ls", cwd: "/" })).not.toBe(a);
    expect(bindingHash("web1", "remote_read_file", { server: "web1", command: "ls", cwd: "/" })).not.toBe(a);
    expect(bindingHash("web1", "remote_exec", { server: "web1", command: "ls ", cwd: "/" })).not.toBe(a);
  });
});

describe("the queue", () => {
  it("reuses a pending entry for the same call, hands out an approval once, and writes the file 0600", async () => {
    const q = new ApprovalQueue(dir);
    const first = await q.enqueue(input());
    expect(first.approved).toBe(false);
    expect(first.entry.id).toMatch(/^[0-9a-f]{8}$/);
    expect(statSync(q.path).mode & 0o777).toBe(0o600);
    expect((await q.enqueue(input())).entry.id).toBe(first.entry.id);
    const other = await q.enqueue(input({ hash: "other" }));
    expect(other.entry.id).not.toBe(first.entry.id);
    await q.decide(first.entry.id, "approved", "alice");
    const taken = await q.enqueue(input());
    expect(taken).toMatchObject({ approved: true, entry: { id: first.entry.id, decidedBy: "alice" } });
    // Used: the next identical call needs a new approval.
    const next = await q.enqueue(input());
    expect(next.approved).toBe(false);
    expect(next.entry.id).not.toBe(first.entry.id);
    expect(q.get(first.entry.id)?.state).toBe("used");
  });

  it("expires entries after 10 minutes: too late to approve, and never handed out", async () => {
    let now = Date.parse("2026-01-01T10:00:00Z");
    const q = new ApprovalQueue(dir, () => now);
    const { entry } = await q.enqueue(input());
    await q.decide(entry.id, "approved", "alice");
    now += APPROVAL_TTL_MS + 1;
    expect(q.get(entry.id)?.state).toBe("expired");
    expect((await q.enqueue(input())).approved).toBe(false);
    const pending = (await q.enqueue(input({ hash: "h2" }))).entry;
    now += APPROVAL_TTL_MS + 1;
    await expect(q.decide(pending.id, "approved", "alice")).rejects.toMatchObject({ code: "E_APPROVAL_EXPIRED" });
    await expect(q.decide("00000000", "approved", "alice")).rejects.toMatchObject({ code: "E_APPROVAL_UNKNOWN" });
    await expect(q.decide("nope", "approved", "alice")).rejects.toMatchObject({ code: "E_APPROVAL_UNKNOWN" });
  });

  it("an answered entry cannot be answered again", async () => {
    const q = new ApprovalQueue(dir);
    const { entry } = await q.enqueue(input());
    await q.decide(entry.id, "denied", "bob", "not now");
    await expect(q.decide(entry.id, "approved", "alice")).rejects.toMatchObject({ code: "E_APPROVAL_DECIDED" });
    expect(q.get(entry.id)).toMatchObject({ state: "denied", note: "not now", decidedBy: "bob" });
  });
});

/** Waits until `get()` is set (the entry exists), on a loaded machine too. */
async function until(get: () => string): Promise<string> {
  for (let i = 0; i < 500 && !get(); i++) await new Promise((r) => setTimeout(r, 10));
  return get();
}

describe("the approver", () => {
  const approver = (over: Partial<Parameters<typeof queueApprover>[0]> = {}) =>
    queueApprover({ queue: new ApprovalQueue(dir), tool: "remote_exec", args: { server: "web1", command: "systemctl restart nginx" }, actor: "mcp:test", timeoutMs: 5000, pollMs: 20, ...over });

  it("waits for an approval from elsewhere, reporting the id while it waits", async () => {
    const waits: number[] = [];
    let id = "";
    const a = approver({ onWait: (entry, ms) => ((id = entry.id), waits.push(ms)) });
    const answer = a.approve(request());
    await new ApprovalQueue(dir).decide(await until(() => id), "approved", "alice");
    expect(await answer).toEqual({ approved: true, approver: "approvals:alice" });
    expect(a.outcome).toMatchObject({ id, state: "approved" });
    expect(waits[0]).toBe(0);
    expect(new ApprovalQueue(dir).get(id)?.state).toBe("used");
  });

  it("a denial refuses with the note; a timeout leaves the entry pending and names the command", async () => {
    let id = "";
    const a = approver({ onWait: (e) => (id = e.id) });
    const denied = a.approve(request());
    await new ApprovalQueue(dir).decide(await until(() => id), "denied", "bob", "change freeze");
    expect(await denied).toMatchObject({ approved: false, by: "user", message: expect.stringContaining("change freeze") });

    const b = approver({ timeoutMs: 200, args: { server: "web1", command: "other" } });
    const started = Date.now();
    const timedOut = await b.approve(request("web1", "other"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(timedOut).toMatchObject({ approved: false, by: "timeout" });
    expect(b.outcome?.state).toBe("timeout");
    expect((timedOut as { message: string }).message).toContain(`opsterm approvals approve ${b.outcome!.id}`);
    expect(new ApprovalQueue(dir).get(b.outcome!.id)?.state).toBe("pending");
  });

  it("a cancelled call stops waiting at once", async () => {
    const ac = new AbortController();
    let id = "";
    const a = approver({ signal: ac.signal, timeoutMs: 60_000, onWait: (e) => (id = e.id) });
    const answer = a.approve(request());
    await until(() => id);
    const started = Date.now();
    ac.abort();
    expect(await answer).toMatchObject({ approved: false, by: "cancelled" });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("the display written to the queue is redacted", async () => {
    const a = approver({ timeoutMs: 50, redact: (t) => t.replaceAll("hunter22", "[REDACTED]") });
    await a.approve(request("web1", "mysql -phunter22 -e 'drop table x'"));
    expect(new ApprovalQueue(dir).get(a.outcome!.id)?.display).toBe("mysql -p[REDACTED] -e 'drop table x'");
  });
});

describe("opsterm approvals", () => {
  it("list, approve and deny from the command line, with --json and one-line errors", async () => {
    const q = new ApprovalQueue(dir);
    const { entry } = await q.enqueue(input());
    const list = await runInProcess(["approvals", "list", "--json"], { home: dir, env: { OPSTERM_HOME: dir } });
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(rows).toEqual([expect.objectContaining({ id: entry.id, state: "pending", server: "web1", display: "systemctl restart nginx" })]);
    expect(rows[0].hash).toBeUndefined();
    const text = await runInProcess(["approvals"], { home: dir, env: { OPSTERM_HOME: dir, NO_COLOR: "1" } });
    expect(text.stdout).toContain(`${entry.id}  pending`);
    const approve = await runInProcess(["approvals", "approve", entry.id, "--json"], { home: dir, env: { OPSTERM_HOME: dir, USER: "carol" } });
    expect(approve.code, approve.stderr).toBe(0);
    expect(JSON.parse(approve.stdout)).toMatchObject({ id: entry.id, status: "approved", decidedBy: "carol" });
    const again = await runInProcess(["approvals", "deny", entry.id], { home: dir, env: { OPSTERM_HOME: dir } });
    expect(again.code).toBe(65);
    expect(again.stderr).toContain("E_APPROVAL_DECIDED");
    expect(again.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    const unknown = await runInProcess(["approvals", "approve", "deadbeef"], { home: dir, env: { OPSTERM_HOME: dir } });
    expect(unknown.code).toBe(2);
    const empty = await runInProcess(["approvals", "list"], { home: dir, env: { OPSTERM_HOME: dir } });
    expect(empty.stderr).toContain("Nothing waits for approval");
  });
});
