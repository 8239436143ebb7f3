/**
 * The file action kinds (read, write, list, stat, find) as the agent, workflows and MCP use them:
 * ctx.actions.run() on a real kernel with the built-in plugins, against a real sshd.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import { globMatcher, type DirEntry } from "../../../plugins/scp/executors.ts";
import { exitCodeFor } from "../../../src/kernel/actions.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";
import { createTestKernel, type TestKernel } from "../../helpers/test-kernel.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let t: TestKernel;
let remote: string;

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  t = await createTestKernel(BUILTIN_PLUGINS, { env: home.env, home: home.home });
  remote = mkdtempSync(join(tmpdir(), "opsterm-scp-exec-"));
});

afterAll(async () => {
  await t?.kernel.close();
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

describe("write and read", () => {
  it("write replaces the file atomically with snapshots before and after; read returns the content", async () => {
    const path = join(remote, "app.txt");
    writeFileSync(path, "A=1\n");
    const put = await t.ctx.actions.run({ kind: "write", target: "web1", path, origin: "ai", summary: "write file", params: { content: "A=2\n" } }, { preApproved: true });
    expect(put).toMatchObject({ attempted: true, completed: true, exitCode: 0, auditStatus: "written", approver: "flag:--yes" });
    expect(put.action).toMatchObject({ kind: "write", server: "web1", path, origin: "ai" });
    expect(put.details.sha256).toBe(createHash("sha256").update("A=2\n").digest("hex"));
    expect(put.snapshots).toHaveLength(1);
    expect(put.snapshots[0].before?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(put.snapshots[0].after?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(put.auditSeq).toBeGreaterThan(0);
    expect(readFileSync(path, "utf8")).toBe("A=2\n");

    const got = await t.ctx.actions.run({ kind: "read", target: "web1", path });
    expect(got.exitCode, JSON.stringify(got.error)).toBe(0);
    expect(Buffer.from((got.data as { content: Buffer }).content).toString()).toBe("A=2\n");
    expect(got.action.kind).toBe("read");
  });

  it("a write without pre-approval and without a terminal is denied (77) and writes nothing", async () => {
    const path = join(remote, "keep.txt");
    writeFileSync(path, "keep\n");
    const put = await t.ctx.actions.run({ kind: "write", target: "web1", path, origin: "ai", params: { content: "gone\n" } });
    expect(put.error?.code).toBe("E_APPROVAL_DENIED");
    expect(put.attempted).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("keep\n");
  });

  it("read takes a slice (offset, length) and refuses a file over maxBytes; a missing file is reported", async () => {
    const path = join(remote, "big.log");
    writeFileSync(path, "0123456789".repeat(500));
    const slice = await t.ctx.actions.run({ kind: "read", target: "web1", path, params: { offset: 10, length: 5 } });
    expect(Buffer.from((slice.data as { content: Buffer }).content).toString()).toBe("01234");
    expect(slice.data).toMatchObject({ size: 5000, truncated: true });
    const big = await t.ctx.actions.run({ kind: "read", target: "web1", path, params: { maxBytes: 1000, length: 1e9 } });
    expect(big.exitCode).toBe(0);
    expect((big.data as { content: Buffer }).content.length).toBe(1000);
    const missing = await t.ctx.actions.run({ kind: "read", target: "web1", path: join(remote, "absent") });
    expect(missing.error?.code).toBe("E_SCP_NOT_FOUND");
  });
});

describe("a write that depends on what it read (patches, undo)", () => {
  it("replaces only while the file still has the expected sha256; otherwise nothing changes (75)", async () => {
    const path = join(remote, "patched.conf");
    writeFileSync(path, "v1\n");
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    const ok = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { content: "v2\n", expectSha256: sha("v1\n") } }, { preApproved: true });
    expect(ok.exitCode).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("v2\n");
    const stale = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { content: "v3\n", expectSha256: sha("v1\n") } }, { preApproved: true });
    expect(stale.error?.code).toBe("E_PRECONDITION");
    expect(exitCodeFor(stale)).toBe(75);
    expect(readFileSync(path, "utf8")).toBe("v2\n");
    const mustBeNew = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { content: "v4\n", expectSha256: null } }, { preApproved: true });
    expect(mustBeNew.error?.code).toBe("E_PRECONDITION");
    expect(readFileSync(path, "utf8")).toBe("v2\n");
  });

  it("remove: only a regular file that still has the expected sha256, snapshotted before (content, mode) and after (absent)", async () => {
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    const path = join(remote, "to-remove.txt");
    writeFileSync(path, "bye\n", { mode: 0o640 });
    const stale = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { remove: true, expectSha256: sha("other\n") } }, { preApproved: true });
    expect(stale.error?.code).toBe("E_PRECONDITION");
    expect(exitCodeFor(stale)).toBe(75);
    expect(readFileSync(path, "utf8")).toBe("bye\n");
    // Not approved in advance, no terminal: refused like any write, nothing removed.
    const denied = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { remove: true } });
    expect(denied.error?.code).toBe("E_APPROVAL_DENIED");
    expect(existsSync(path)).toBe(true);
    const link = join(remote, "link-to-remove");
    symlinkSync(path, link);
    const viaLink = await t.ctx.actions.run({ kind: "write", target: "web1", path: link, params: { remove: true } }, { preApproved: true });
    expect(viaLink.error?.code).toBe("E_SCP_NOT_FILE");
    expect(existsSync(path) && existsSync(link)).toBe(true);

    const gone = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { remove: true, expectSha256: sha("bye\n") } }, { preApproved: true });
    expect(gone).toMatchObject({ exitCode: 0, completed: true, details: { removed: 1, bytes: 4, sha256: sha("bye\n"), mode: "0640" } });
    expect(existsSync(path)).toBe(false);
    expect(gone.snapshots).toHaveLength(1);
    expect(gone.snapshots[0]).toMatchObject({ remote: path, beforeState: { exists: true, mode: 0o640, size: 4, sha256: sha("bye\n"), stored: true }, afterState: { exists: false } });
    const again = await t.ctx.actions.run({ kind: "write", target: "web1", path, params: { remove: true, expectSha256: sha("bye\n") } }, { preApproved: true });
    expect(again.error?.code).toBe("E_PRECONDITION");
  });
});

describe("list, stat and find", () => {
  beforeAll(() => {
    mkdirSync(join(remote, "tree", "conf.d"), { recursive: true });
    writeFileSync(join(remote, "tree", "a.conf"), "a");
    writeFileSync(join(remote, "tree", "conf.d", "b.conf"), "bb");
    writeFileSync(join(remote, "tree", "notes.txt"), "n");
    symlinkSync(join(remote, "tree", "a.conf"), join(remote, "tree", "link.conf"));
  });

  it("list gives one level, or the whole tree with recursive, with types, sizes and modes", async () => {
    const flat = await t.ctx.actions.run({ kind: "list", target: "web1", path: join(remote, "tree") });
    expect(flat.verdict?.decision).toBe("auto-allow");
    const names = (flat.data as { entries: DirEntry[] }).entries.map((e) => e.path.slice(remote.length));
    expect(names).toEqual(["/tree/a.conf", "/tree/conf.d", "/tree/link.conf", "/tree/notes.txt"]);
    const deep = await t.ctx.actions.run({ kind: "list", target: "web1", path: join(remote, "tree"), recursive: true });
    expect((deep.data as { entries: DirEntry[] }).entries.find((e) => e.path.endsWith("b.conf"))).toMatchObject({ type: "file", size: 2 });
    const limited = await t.ctx.actions.run({ kind: "list", target: "web1", path: join(remote, "tree"), params: { limit: 2 } });
    expect(limited.data).toMatchObject({ truncated: true });
  });

  it("stat tells a link from its target and a missing path from an error", async () => {
    const link = await t.ctx.actions.run({ kind: "stat", target: "web1", path: join(remote, "tree", "link.conf") });
    expect(link.data).toMatchObject({ exists: true, type: "link", targetType: "file" });
    const none = await t.ctx.actions.run({ kind: "stat", target: "web1", path: join(remote, "nothing") });
    expect(none.data).toMatchObject({ exists: false });
    expect(none.exitCode).toBe(0);
  });

  it("find walks over SFTP and matches names with a glob; a pattern with shell syntax is just a name", async () => {
    const found = await t.ctx.actions.run({ kind: "find", target: "web1", path: join(remote, "tree"), params: { pattern: "*.conf" } });
    expect((found.data as { entries: DirEntry[] }).entries.map((e) => e.path.slice(remote.length)).sort()).toEqual(["/tree/a.conf", "/tree/conf.d/b.conf", "/tree/link.conf"]);
    const hostile = await t.ctx.actions.run({ kind: "find", target: "web1", path: join(remote, "tree"), params: { pattern: "$(touch /tmp/opsterm-pwned)*;rm -rf /" } });
    expect(hostile.exitCode).toBe(0);
    expect((hostile.data as { entries: DirEntry[] }).entries).toEqual([]);
  });

  it("globMatcher anchors on the whole name and treats regex characters literally", () => {
    expect(globMatcher("*.conf")("nginx.conf")).toBe(true);
    expect(globMatcher("*.conf")("nginx.conf.bak")).toBe(false);
    expect(globMatcher("a.c?nf")("a.conf")).toBe(true);
    expect(globMatcher("a.conf")("abconf")).toBe(false);
    expect(globMatcher("[ab]*")("beta")).toBe(true);
    expect(globMatcher("(x)+")("(x)+")).toBe(true);
  });
});

describe("one connection per host", () => {
  it("consecutive actions on one server reuse one SSH connection", async () => {
    const logins = () => (sshd.logs().match(/Accepted publickey/g) ?? []).length;
    const before = logins();
    for (let i = 0; i < 5; i++) {
      const r = await t.ctx.actions.run({ kind: "stat", target: "web1", path: remote });
      expect(r.exitCode).toBe(0);
    }
    const r = await t.ctx.actions.run({ kind: "exec", target: "web1", command: "echo pooled" });
    expect(r.stdout).toBe("pooled\n");
    expect(logins() - before).toBeLessThanOrEqual(1);
  });
});
