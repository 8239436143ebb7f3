/**
 * Every way opsterm reaches a server, checked against a real sshd with the real policy, audit, ssh
 * and scp plugins: the audit intent is durable before the server is touched (the remote command
 * itself copies the audit log, so the copy shows what was on disk when it ran), the result is
 * written after, and nothing reaches the server when the intent cannot be written or when the
 * policy or audit plugin is missing or broken.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePlugin, type CommandContext, type OpstermPlugin } from "../../../src/kernel/index.ts";
import type { Prompter } from "../../../src/lib/prompt.ts";
import { exitCodeFor } from "../../../src/kernel/actions.ts";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import auditPlugin from "../../../plugins/audit/index.ts";
import policyPlugin from "../../../plugins/policy/index.ts";
import sshPlugin from "../../../plugins/ssh/index.ts";
import { createAuditService } from "../../../plugins/audit/service.ts";
import { offerCommands } from "../../../plugins/chat/suggest.ts";
import { runOpsterm, startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";
import { runInProcess } from "../../helpers/run-cli.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";

let sshd: SshdHandle;
let scratch: string;
const homes: OpstermHome[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), "opsterm-audit-paths-"));
});
afterAll(async () => {
  await sshd?.stop();
  for (const h of homes) h.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function home(policyYaml?: string): OpstermHome {
  const h = writeOpstermHome({ servers: { web1: sshd.server({ tier: "prod" }) }, knownHosts: [sshd.knownHostsLine()] });
  if (policyYaml) writeFileSync(join(h.home, "policy.yaml"), policyYaml);
  homes.push(h);
  return h;
}

const logOf = (h: OpstermHome) => join(h.home, "audit", "audit.jsonl");
const marker = (name: string) => join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);

type Rec = { seq: number; action: string; phase: string; server: string; actor: string; decision?: string; rule?: string; approver?: string; exitCode?: number | null; args: Record<string, unknown> };
function records(h: OpstermHome): Rec[] {
  if (!existsSync(logOf(h))) return [];
  return readFileSync(logOf(h), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Rec);
}
/** What the copy of the audit log taken by the remote command held: [action/phase, …]. */
function seenByRemote(copy: string): string[] {
  return readFileSync(copy, "utf8").trim().split("\n").filter(Boolean).map((l) => {
    const r = JSON.parse(l) as Rec;
    return `${r.action}/${r.phase}`;
  });
}
const shape = (rs: Rec[]) => rs.map((r) => `${r.action}/${r.phase}`);

/** A file where the audit directory must go: the intent cannot be written (chmod would not stop root). */
function blockAuditDir(h: OpstermHome): void {
  writeFileSync(join(h.home, "audit"), "not a directory\n");
}
/** The log is /dev/full: every write fails with ENOSPC. */
function auditOnDevFull(h: OpstermHome): void {
  mkdirSync(join(h.home, "audit"), { recursive: true, mode: 0o700 });
  symlinkSync("/dev/full", logOf(h));
}

describe("opsterm exec", () => {
  it("has its intent on disk when the command runs, and its result after", async () => {
    const h = home();
    const copy = marker("exec-copy");
    const r = await runOpsterm(["exec", "web1", "--yes", "--", "cp", logOf(h), copy], h.env);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(seenByRemote(copy)).toEqual(["exec/intent"]);
    const rs = records(h);
    expect(shape(rs)).toEqual(["exec/intent", "exec/result"]);
    expect(rs[0]).toMatchObject({ server: "web1", decision: "approval-required", approver: "flag:--yes", args: { command: `cp ${logOf(h)} ${copy}` } });
    expect(rs[1]).toMatchObject({ exitCode: 0 });
    expect((await runOpsterm(["audit", "verify"], h.env)).code).toBe(0);
  });

  it("never persists the AI provider's key or a password in the command (audit and history)", async () => {
    const h = home();
    const key = "opk-Zy8Qw3Lm5Nx7Tt2";
    const env = { ...h.env, OPSTERM_API_KEY: key };
    const r = await runOpsterm(["exec", "web1", "--yes", "--", "echo", key, "PGPASSWORD=hunter2-Xq", "--password=s3cr3t-Vb"], env);
    expect(r.code).toBe(0);
    // Printed to the terminal as the server sent it…
    expect(r.stdout).toContain(key);
    // …but nothing written under OPSTERM_HOME (audit log, history journal/db) holds it.
    expect(existsSync(join(h.home, "history.journal")) || existsSync(join(h.home, "history.db"))).toBe(true);
    const written = readdirSync(h.home, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name)).toString("latin1"))
      .join("\n");
    expect(written).toContain("[REDACTED:secret-1]");
    for (const secret of [key, "hunter2-Xq", "s3cr3t-Vb"]) expect(written).not.toContain(secret);
    expect(shape(records(h))).toEqual(["exec/intent", "exec/result"]);
  });

  it("runs nothing when the audit log is /dev/full (exit 74, says the disk is full)", async () => {
    const h = home();
    auditOnDevFull(h);
    const m = marker("exec-devfull");
    const r = await runOpsterm(["exec", "web1", "--yes", "--", "touch", m], h.env);
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(/nothing was run.*the disk is full \(ENOSPC\)/);
    expect(r.stderr.match(/nothing was run/g)).toHaveLength(1);
    expect(existsSync(m)).toBe(false);
  });
});

describe("opsterm ssh (interactive session)", () => {
  it("records session-start before ssh runs and session-end with the exit status after", async () => {
    const h = home();
    const copy = marker("session-copy");
    const r = await runOpsterm(["ssh", "web1", "--yes"], h.env, { input: `cp ${logOf(h)} ${copy}\nexit 3\n` });
    expect(r.code).toBe(3);
    expect(seenByRemote(copy)).toEqual(["session-start/intent"]);
    const rs = records(h);
    expect(shape(rs)).toEqual(["session-start/intent", "session-end/result"]);
    expect(rs[0]).toMatchObject({ decision: "approval-required", rule: "policy.session", approver: "flag:--yes" });
    expect(rs[1]).toMatchObject({ exitCode: 3 });
    const show = await runOpsterm(["audit", "show", "1", "--json"], h.env);
    expect(JSON.parse(show.stdout).records.map((x: Rec) => x.seq)).toEqual([1, 2]);
  });

  it("is refused without a TTY unless approved in advance, and the refusal is recorded (exit 77)", async () => {
    const h = home();
    const m = marker("session-notty");
    const r = await runOpsterm(["ssh", "web1"], h.env, { input: `touch ${m}\n` });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/no terminal to ask on; pass --yes/);
    expect(existsSync(m)).toBe(false);
    expect(records(h)).toMatchObject([{ action: "approval", phase: "event", decision: "approval-required", approver: "refused:no-tty" }]);
  });

  it("obeys the policy's session rules: a tier that denies sessions never opens one, even with --yes", async () => {
    const h = home("tiers:\n  prod:\n    session: deny\n");
    const m = marker("session-deny");
    const r = await runOpsterm(["ssh", "web1", "--yes"], h.env, { input: `touch ${m}\n` });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/Refused by policy \(user\.tiers\.prod\.session\)/);
    expect(existsSync(m)).toBe(false);
    expect(records(h)).toMatchObject([{ action: "approval", phase: "event", decision: "reject" }]);
  });

  it("opens no session when the audit intent cannot be written (exit 74)", async () => {
    const h = home("servers:\n  web1:\n    session: allow\n");
    blockAuditDir(h);
    const m = marker("session-blocked");
    const r = await runOpsterm(["ssh", "web1"], h.env, { input: `touch ${m}\n` });
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(/Audit intent could not be written, so nothing was run: .*a file is in the way/);
    expect(existsSync(m)).toBe(false);
  });
});

describe("opsterm put / get / scp", () => {
  it("put: the intent precedes the before-snapshot, which precedes the write", async () => {
    const h = home();
    const path = marker("put-target");
    writeFileSync(path, "old\n");
    const r = await runOpsterm(["put", "web1", path, "--yes", "--json"], h.env, { input: "new\n" });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const rs = records(h);
    expect(shape(rs)).toEqual(["write/intent", "write/result"]);
    // Each snapshot commit records the audit head at its time: the intent (seq 1) was already durable.
    const body = (commit: string) =>
      execFileSync("git", ["--git-dir", join(h.home, "audit", "snapshots"), "log", "-1", "--format=%B", commit], { encoding: "utf8" });
    expect(body(out.snapshots.before.commit)).toContain(`Audit-Head: 1 ${(rs[0] as unknown as { hash: string }).hash}`);
    expect(body(out.snapshots.after.commit)).toContain("Audit-Head: 1 ");
    expect(readFileSync(path, "utf8")).toBe("new\n");
  });

  it.each([
    ["put", (h: OpstermHome, remote: string) => ["put", "web1", remote, "--yes"]],
    ["scp upload", (_h: OpstermHome, remote: string) => ["scp", "--yes", join(scratch, "upload-src"), `web1:${remote}`]],
  ])("%s writes nothing when the audit intent cannot be written (exit 74)", async (_name, argv) => {
    writeFileSync(join(scratch, "upload-src"), "changed\n");
    for (const block of [blockAuditDir, auditOnDevFull]) {
      const h = home();
      block(h);
      const remote = marker("guarded");
      writeFileSync(remote, "guarded\n");
      const r = await runOpsterm(argv(h, remote), h.env, { input: "changed\n" });
      expect(r.code).toBe(74);
      expect(readFileSync(remote, "utf8")).toBe("guarded\n");
      expect(readdirSync(scratch).filter((n) => n.includes(".opsterm-"))).toEqual([]);
      expect(existsSync(join(h.home, "audit", "snapshots"))).toBe(false);
    }
  });

  it("put: a failed after-snapshot is a partial failure (exit 74), never success", async () => {
    const h = home();
    // The real audit service; only the after-write snapshot is made to fail (failure injection).
    const flakyAudit = definePlugin({
      ...auditPlugin,
      setup(ctx) {
        const real = createAuditService(ctx);
        ctx.provide("audit", {
          append: real.append,
          snapshot: (server, path, content, message) => (message.startsWith("after") ? Promise.reject(new Error("git exploded")) : real.snapshot(server, path, content, message)),
        });
      },
    });
    const plugins = [...BUILTIN_PLUGINS.filter((p) => p.name !== "audit"), flakyAudit];
    const t = await createTestKernel(plugins, { home: h.home, env: h.env });
    const path = marker("partial");
    writeFileSync(path, "old\n");
    const put = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { content: "new\n" } }, { preApproved: true });
    await t.kernel.close();
    expect(readFileSync(path, "utf8")).toBe("new\n");
    expect(exitCodeFor(put)).toBe(74);
    expect(put.error).toMatchObject({ code: "E_SNAPSHOT_AFTER", message: expect.stringMatching(/was written, but its after-snapshot failed: .*git exploded/) });
    expect(put.snapshots[0].before?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(put.snapshots[0].after).toBeUndefined();
    const rs = records(h);
    expect(shape(rs)).toEqual(["write/intent", "write/result"]);
    // The result record does not claim success.
    expect(rs[1].exitCode).not.toBe(0);
  });

  it("get reads nothing when the audit intent cannot be written (exit 74)", async () => {
    const h = home();
    blockAuditDir(h);
    const remote = marker("readable");
    writeFileSync(remote, "secret-ish\n");
    const local = marker("local-copy");
    const r = await runOpsterm(["get", "web1", remote, local, "--yes"], h.env);
    expect(r.code).toBe(74);
    expect(existsSync(local)).toBe(false);
  });
});

/** Answers prompts like a person at a terminal: `answers` in order. */
function scripted(answers: string[]): Prompter {
  const next = () => answers.shift() ?? "";
  return {
    interactive: true,
    confirm: async () => next() === "y",
    select: async (_m, choices, def) => (choices.find((c) => c.value === next())?.value ?? def) as never,
    text: async () => next(),
  };
}

describe("commands the AI suggests for a server", () => {
  async function chatWorld(h: OpstermHome) {
    const t = await createTestKernel([policyPlugin, auditPlugin, sshPlugin], { home: h.home, env: h.env });
    await (t.ctx.use("policy") as unknown as { load(): Promise<void> }).load();
    return {
      ...t,
      with(prompt: Prompter): CommandContext {
        const ctx = { ...t.ctx, prompt };
        ctx.actions = t.kernel.actions.bind(ctx);
        return ctx;
      },
    };
  }

  it("run through the orchestrator: origin ai, the approver recorded, intent before the command runs", async () => {
    const h = home();
    const w = await chatWorld(h);
    const copy = marker("ai-copy");
    const results = await offerCommands(w.with(scripted(["execute", "y"])), [`cp ${logOf(h)} ${copy}`], { server: "web1" });
    expect(results).toMatchObject([{ action: "executed", exitCode: 0 }]);
    expect(seenByRemote(copy)).toEqual(["exec/intent"]);
    const rs = records(h);
    expect(shape(rs)).toEqual(["exec/intent", "exec/result"]);
    expect(rs[0]).toMatchObject({ actor: "tester (ai)", decision: "approval-required", approver: "tty:tester" });
  });

  it("a refused approval is recorded and nothing runs", async () => {
    const h = home();
    const w = await chatWorld(h);
    const m = marker("ai-refused");
    const results = await offerCommands(w.with(scripted(["execute", "n"])), [`touch ${m}`], { server: "web1" });
    expect(results).toMatchObject([{ action: "refused" }]);
    expect(existsSync(m)).toBe(false);
    expect(records(h)).toMatchObject([{ action: "approval", phase: "event", approver: "refused:user", actor: "tester (ai)" }]);
  });

  it("nothing runs when the audit intent cannot be written", async () => {
    const h = home();
    auditOnDevFull(h);
    const w = await chatWorld(h);
    const m = marker("ai-devfull");
    const results = await offerCommands(w.with(scripted(["execute", "y"])), [`touch ${m}`], { server: "web1" });
    expect(results).toMatchObject([{ action: "refused" }]);
    expect(existsSync(m)).toBe(false);
  });
});

describe("fail closed by construction: the real CLI with the policy or audit plugin missing or broken", () => {
  const without = (name: string, ...extra: OpstermPlugin[]) => [...BUILTIN_PLUGINS.filter((p) => p.name !== name), ...extra];
  const throwingSetup = (name: string) => definePlugin({ name, apiVersion: 1, setup: () => { throw new Error(`${name} is broken`); } });
  const throwingAudit = definePlugin({
    name: "audit",
    apiVersion: 1,
    setup(ctx) {
      const real = createAuditService(ctx);
      ctx.provide("audit", { append: () => Promise.reject(new Error("append exploded")), snapshot: real.snapshot });
    },
  });

  it.each([
    ["no audit plugin", without("audit"), 74, /No audit plugin is loaded/],
    ["an audit plugin whose setup throws", without("audit", throwingSetup("audit")), 74, /No audit plugin is loaded/],
    ["an audit service whose append throws", without("audit", throwingAudit), 74, /Audit intent could not be written.*append exploded/],
    ["no policy plugin", without("policy"), 77, /no policy plugin is loaded/],
    ["a policy plugin whose setup throws", without("policy", throwingSetup("policy")), 77, /no policy plugin is loaded/],
  ])("with %s, exec runs nothing (exit %i)", async (_name, plugins, code, message) => {
    const h = home();
    const m = marker("construction");
    const r = await runInProcess(["exec", "web1", "--yes", "--", "touch", m], { home: h.home, env: h.env, plugins });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(existsSync(m)).toBe(false);
  });
});
