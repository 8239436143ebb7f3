/**
 * Every registered executor kind, on the real built-in plugins against a real sshd, proves the
 * gate's promises (issue "one gate"): no policy → nothing runs; audit intent unwritable →
 * nothing runs (74); reject → nothing runs (77); approval with no terminal → nothing runs unless
 * pre-approved; a run writes exactly one intent and one result. "Nothing runs" is observed from
 * outside: no login in sshd's log, no file touched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePlugin, type ActionKind, type ActionRequest, type OpstermPlugin, type RunOptions } from "../../src/kernel/index.ts";
import { exitCodeFor } from "../../src/kernel/actions.ts";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

let sshd: SshdHandle;
let scratch: string;
const homes: OpstermHome[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), "opsterm-kinds-"));
  writeFileSync(join(scratch, "file.txt"), "hello\n");
});

afterAll(async () => {
  await sshd?.stop();
  for (const h of homes) h.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const logins = () => (sshd.logs().match(/Accepted publickey/g) ?? []).length;
let n = 0;

/** One request per kind, and how to tell from outside that it ran. */
function requestFor(kind: ActionKind): { request: ActionRequest; options?: RunOptions; ran: () => boolean } {
  const marker = join(scratch, `ran-${kind}-${++n}`);
  const before = logins();
  const remoteRan = () => logins() > before;
  switch (kind) {
    case "exec":
      return { request: { kind, target: "web1", command: `touch ${marker}` }, ran: () => existsSync(marker) };
    case "session":
      // A scripted session: its input is the remote shell's script.
      return { request: { kind, target: "web1", command: "ssh web1" }, options: { io: { stdin: `touch ${marker}\n`, onStdout: () => {}, onStderr: () => {} } }, ran: () => existsSync(marker) };
    case "local":
      return { request: { kind, target: "local", command: `touch ${marker}` }, ran: () => existsSync(marker) };
    case "write":
      return { request: { kind, target: "web1", path: marker, params: { content: "x\n" } }, ran: () => existsSync(marker) };
    case "read":
      return { request: { kind, target: "web1", path: join(scratch, "file.txt") }, ran: remoteRan };
    case "list":
    case "stat":
      return { request: { kind, target: "web1", path: scratch }, ran: remoteRan };
    case "find":
      return { request: { kind, target: "web1", path: scratch, params: { pattern: "*.txt" } }, ran: remoteRan };
  }
}

async function world(options: { plugins?: OpstermPlugin[]; policyYaml?: string; blockAudit?: boolean } = {}) {
  const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  homes.push(h);
  if (options.policyYaml !== undefined) writeFileSync(join(h.home, "policy.yaml"), options.policyYaml);
  if (options.blockAudit) writeFileSync(join(h.home, "audit"), "not a directory\n");
  const t = await createTestKernel(options.plugins ?? BUILTIN_PLUGINS, { home: h.home, env: h.env });
  const records = () => {
    const path = join(h.home, "audit", "audit.jsonl");
    return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { phase: string; action: string }) : [];
  };
  return { ...t, records };
}

const KINDS: ActionKind[] = ["exec", "session", "local", "read", "write", "list", "stat", "find"];
/** Forces approval on every action, whatever the policy says (the veto keeps the strictest). */
const askAlways = definePlugin({ name: "ask-always", apiVersion: 1, hooks: { beforeAction: () => ({ decision: "approval-required", rule: "test.ask", reason: "asked by the test" }) } });

describe("every executor kind behind the gate", () => {
  it("the built-in plugins register exactly these kinds (a new kind must be added to this test)", async () => {
    const t = await world();
    expect(t.kernel.actions.kinds().sort()).toEqual([...KINDS].sort());
    await t.kernel.close();
  });

  describe.each(KINDS)("%s", (kind) => {
    it("no policy plugin: refused (77), nothing runs, nothing recorded as run", async () => {
      const t = await world({ plugins: BUILTIN_PLUGINS.filter((p) => p.name !== "policy") });
      const { request, options, ran } = requestFor(kind);
      const r = await t.ctx.actions.run(request, { ...options, preApproved: true });
      await t.kernel.close();
      expect(exitCodeFor(r)).toBe(77);
      expect(r.attempted).toBe(false);
      expect(ran()).toBe(false);
      expect(t.records().filter((x) => x.phase !== "event")).toEqual([]);
    });

    it("audit intent unwritable: nothing runs (74)", async () => {
      const t = await world({ blockAudit: true });
      const { request, options, ran } = requestFor(kind);
      const r = await t.ctx.actions.run(request, { ...options, preApproved: true });
      await t.kernel.close();
      expect(exitCodeFor(r)).toBe(74);
      expect(ran()).toBe(false);
    });

    it("rejected by the policy (invalid rules reject everything): nothing runs (77), even with --yes", async () => {
      const t = await world({ policyYaml: "deny: rm\n" });
      const { request, options, ran } = requestFor(kind);
      const r = await t.ctx.actions.run(request, { ...options, preApproved: true });
      await t.kernel.close();
      expect(r.verdict?.decision).toBe("reject");
      expect(exitCodeFor(r)).toBe(77);
      expect(ran()).toBe(false);
      expect(t.records().map((x) => x.phase)).toEqual(["event"]);
    });

    it("approval required and no terminal: nothing runs unless pre-approved; a run writes one intent and one result", async () => {
      const t = await world({ plugins: [...BUILTIN_PLUGINS, askAlways] });
      const first = requestFor(kind);
      const denied = await t.ctx.actions.run(first.request, first.options);
      expect(denied.error?.code).toBe("E_APPROVAL_DENIED");
      expect(first.ran()).toBe(false);
      const second = requestFor(kind);
      const ok = await t.ctx.actions.run(second.request, { ...second.options, preApproved: true });
      await t.kernel.close();
      expect(ok.error).toBeUndefined();
      expect(ok).toMatchObject({ attempted: true, completed: true, exitCode: 0, approver: "flag:--yes" });
      expect(second.ran()).toBe(true);
      const phases = t.records().map((x) => x.phase);
      expect(phases).toEqual(["event", "intent", "result"]);
    });
  });
});
