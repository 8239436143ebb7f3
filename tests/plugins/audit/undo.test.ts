/**
 * The "audit.undo" service as the agent's /undo uses it: a real kernel with the built-in plugins,
 * the remote tools (remote_write_file, remote_patch_file, remote_exec) in one conversation against
 * a real sshd, then an undo of the conversation through the caller's gate.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import { auditFiles, readRecords, verifyLog } from "../../../plugins/audit/log.ts";
import { callTool, type ToolContext } from "../../../src/tools/remote-tools.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";
import { createTestKernel, type TestKernel } from "../../helpers/test-kernel.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let t: TestKernel;
let remote: string;

function tools(conversation: string): ToolContext {
  return { actions: t.ctx.actions, listServers: () => t.ctx.use("inventory").list(), origin: "ai", actor: "ai:test/model", conversation, preApproved: "test" };
}

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  t = await createTestKernel(BUILTIN_PLUGINS, { env: home.env, home: home.home });
  remote = mkdtempSync(join(tmpdir(), "opsterm-undo-svc-"));
});

afterAll(async () => {
  await t?.kernel.close();
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

describe("audit.undo", { timeout: 150_000 }, () => {
  it("undoes a conversation's tool writes (two writes of one file collapse to its first before-state), and notes its commands", async () => {
    const conf = join(remote, "app.conf");
    const added = join(remote, "added.txt");
    writeFileSync(conf, "a\nb\nc\n");
    const w = await callTool("remote_write_file", { server: "web1", path: conf, content: "a\nB\nc\n" }, tools("conv-1"));
    expect(w.status).toBe("ok");
    const p = await callTool("remote_patch_file", { server: "web1", path: conf, unified_diff: "@@ -1,3 +1,3 @@\n a\n B\n-c\n+C\n" }, tools("conv-1"));
    expect(p.status, JSON.stringify(p)).toBe("ok");
    expect((await callTool("remote_write_file", { server: "web1", path: added, content: "new\n" }, tools("conv-1"))).status).toBe("ok");
    expect((await callTool("remote_exec", { server: "web1", command: "true" }, tools("conv-1"))).status).toBe("ok");
    expect(readFileSync(conf, "utf8")).toBe("a\nB\nC\n");

    const undo = t.ctx.use("audit.undo");
    const dry = await undo.undo({ run: "conv-1" }, { actions: t.ctx.actions, dryRun: true });
    expect(dry).toMatchObject({ ok: true, dryRun: true, exitCode: 0 });
    expect(dry.files.map((f) => f.status)).toEqual(["would-undo", "would-undo"]);
    expect(readFileSync(conf, "utf8")).toBe("a\nB\nC\n");

    const report = await undo.undo({ run: "conv-1" }, { actions: t.ctx.actions, preApproved: "test", origin: "ai", actor: "ai:test/model", conversation: "conv-1-undo" });
    expect(report).toMatchObject({ ok: true, exitCode: 0, run: "conv-1" });
    // Newest first: added.txt (written last) is removed, then app.conf goes back to before the first write.
    expect(report.files.map((f) => [f.path, f.op, f.status, f.writes.length])).toEqual([
      [added, "remove", "undone", 1],
      [conf, "restore", "undone", 2],
    ]);
    expect(report.notes.join("\n")).toMatch(/also ran 1 command\(s\) \(#\d+ true\): opsterm cannot undo what a command changed/);
    expect(readFileSync(conf, "utf8")).toBe("a\nb\nc\n");
    expect(existsSync(added)).toBe(false);
    const files = auditFiles(home.home);
    const undoWrites = readRecords(files).filter((r) => r.args?.conversation === "conv-1-undo" && r.action === "write" && r.phase === "intent");
    expect(undoWrites.map((r) => r.actor)).toEqual(["ai:test/model", "ai:test/model"]);
    expect(verifyLog(files).ok).toBe(true);

    // The last write of conv-1-undo is the restore of app.conf: undoing it alone brings C back.
    const last = await undo.undo({ last: true, run: "conv-1-undo" }, { actions: t.ctx.actions, preApproved: "test" });
    expect(last.files).toMatchObject([{ path: conf, op: "restore", status: "undone" }]);
    expect(readFileSync(conf, "utf8")).toBe("a\nB\nC\n");
  });

  it("refuses when a command changed the file between two writes of a run (75), writing nothing", async () => {
    const f = join(remote, "chain.txt");
    writeFileSync(f, "one\n");
    expect((await callTool("remote_write_file", { server: "web1", path: f, content: "two\n" }, tools("conv-2"))).status).toBe("ok");
    expect((await callTool("remote_exec", { server: "web1", command: `echo extra >> ${f}` }, tools("conv-2"))).status).toBe("ok");
    expect((await callTool("remote_write_file", { server: "web1", path: f, content: "three\n" }, tools("conv-2"))).status).toBe("ok");
    const report = await t.ctx.use("audit.undo").undo({ run: "conv-2" }, { actions: t.ctx.actions, preApproved: "test" });
    expect(report).toMatchObject({ ok: false, exitCode: 75, error: { code: "E_UNDO_CONFLICT" } });
    expect(report.error!.message).toMatch(/changed between write #\d+ and write #\d+/);
    expect(report.files[0].conflict?.since).toBe("");
    expect(readFileSync(f, "utf8")).toBe("three\n");
  });

  it("refuses a secret write (put --from-vault): its content was never kept", async () => {
    const f = join(remote, "secret.pass");
    writeFileSync(f, "old-password\n");
    const put = await t.ctx.actions.run({ kind: "write", target: "web1", path: f, summary: "write file (from vault x)", params: { content: "new-password\n", secret: true } }, { preApproved: true });
    expect(put.exitCode).toBe(0);
    await expect(t.ctx.use("audit.undo").undo({ seq: put.auditSeq! }, { actions: t.ctx.actions, preApproved: true })).rejects.toMatchObject({ code: "E_UNDO_NO_CONTENT", exitCode: 65 });
    expect(readFileSync(f, "utf8")).toBe("new-password\n");
  });
});
