/**
 * The remote tools module (src/tools/remote-tools.ts), on a real kernel with the built-in plugins
 * against a real sshd: schemas, argument checks, each tool through the gate, the envelopes a model
 * reads, output caps, and a session bound to one server.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";
import { callTool, cap, checkArguments, ToolArgumentError, toolDefinitions, type ToolContext } from "../../src/tools/remote-tools.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";
import { createTestKernel, type TestKernel } from "../helpers/test-kernel.ts";

let sshd: SshdHandle;
let h: OpstermHome;
let t: TestKernel;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd();
  h = writeOpstermHome({ servers: { web1: sshd.server({ tags: ["web"], tier: "staging" }), db1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  t = await createTestKernel(BUILTIN_PLUGINS, { home: h.home, env: h.env });
  dir = mkdtempSync(join(tmpdir(), "opsterm-tools-"));
});

afterAll(async () => {
  await t?.kernel.close();
  await sshd?.stop();
  h?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function ctx(over: Partial<ToolContext> = {}): ToolContext {
  return {
    actions: t.ctx.actions,
    listServers: () => t.ctx.use("inventory").list(),
    origin: "ai",
    actor: "ai:test/model",
    conversation: "conv-1",
    ...over,
  };
}

describe("schemas", () => {
  it("every tool has a strict object schema; a bound session's tools take no server", () => {
    const all = toolDefinitions();
    expect(all.map((d) => d.name)).toEqual(["list_servers", "remote_exec", "remote_read_file", "remote_write_file", "remote_patch_file", "remote_list_dir", "remote_stat", "remote_find"]);
    for (const d of all) expect(d.inputSchema).toMatchObject({ type: "object", additionalProperties: false });
    expect(all.find((d) => d.name === "remote_exec")!.inputSchema.required).toEqual(["server", "command"]);
    for (const d of toolDefinitions({ boundServer: "web1" })) expect(Object.keys(d.inputSchema.properties ?? {})).not.toContain("server");
    expect(all.find((d) => d.name === "remote_stat")!.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
  });

  it("bad arguments are refused before the gate, naming what is wrong", () => {
    expect(() => checkArguments("remote_exec", { server: "web1" })).toThrow(/command is required/);
    expect(() => checkArguments("remote_exec", { server: "web1", command: "ls", sudo: true })).toThrow(/unknown argument "sudo"/);
    expect(() => checkArguments("remote_read_file", { server: "web1", path: "/x", offset: -1 })).toThrow(/offset must be at least 0/);
    expect(() => checkArguments("remote_write_file", { server: "web1", path: "/x", content: "y", mode: "rwx" })).toThrow(/mode does not match/);
    expect(() => checkArguments("nope", {})).toThrow(ToolArgumentError);
    expect(() => checkArguments("remote_exec", { server: "db1", command: "ls" }, { boundServer: "web1" })).toThrow(/unknown argument "server"/);
  });
});

describe("calls through the gate", () => {
  it("list_servers shows addresses and tags, never key paths", async () => {
    const r = await callTool("list_servers", {}, ctx());
    expect(r.status).toBe("ok");
    expect(r.servers).toEqual(expect.arrayContaining([expect.objectContaining({ id: "web1", tags: ["web"], tier: "staging" })]));
    expect(JSON.stringify(r)).not.toContain("user_ed25519");
  });

  it("exec with a cwd runs there, judged as the line that runs (cd … && …), so it needs approval", async () => {
    writeFileSync(join(dir, "hello.txt"), "hi\n");
    const unasked = await callTool("remote_exec", { server: "web1", command: "cat hello.txt", cwd: dir }, ctx());
    expect(unasked).toMatchObject({ status: "denied" });
    const approved = await callTool("remote_exec", { server: "web1", command: "cat hello.txt", cwd: dir }, ctx({ preApproved: "test:yes" }));
    expect(approved).toMatchObject({ status: "ok", exitCode: 0, stdout: { text: "hi\n" } });
  });

  it("exec: auto-allow runs; approval without a terminal is denied; reject is rejected; nothing runs unasked", async () => {
    const ok = await callTool("remote_exec", { server: "web1", command: `ls ${dir}` }, ctx());
    expect(ok).toMatchObject({ status: "ok", exitCode: 0, server: "web1" });
    expect(ok.stdout?.text).toContain("hello.txt");
    expect(ok.auditSeq).toBeGreaterThan(0);
    const denied = await callTool("remote_exec", { server: "web1", command: `touch ${join(dir, "nope")}` }, ctx());
    expect(denied).toMatchObject({ status: "denied", error: { code: "E_APPROVAL_DENIED" } });
    const rejected = await callTool("remote_exec", { server: "web1", command: "rm -rf /" }, ctx());
    expect(rejected).toMatchObject({ status: "rejected", error: { code: "E_POLICY_REJECT", rule: expect.stringMatching(/^hard\./) } });
    const records = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { actor: string; args: { conversation?: string; command: string } });
    const mine = records.filter((x) => x.args.command === `ls ${dir}`);
    expect(mine.map((x) => [x.actor, x.args.conversation])).toEqual([
      ["ai:test/model", "conv-1"],
      ["ai:test/model", "conv-1"],
    ]);
  });

  it("read, write and patch: the write shows its diff for approval, a patch applies exactly or not at all", async () => {
    const path = join(dir, "app.conf");
    writeFileSync(path, "a=1\nb=2\nc=3\n");
    const read = await callTool("remote_read_file", { server: "web1", path }, ctx());
    expect(read.content).toMatchObject({ text: "a=1\nb=2\nc=3\n", size: 12, encoding: "utf8" });
    const shown: string[] = [];
    const approver = { approve: async (req: { display: string }) => (shown.push(req.display), { approved: true as const, approver: "test:yes" }) };
    const write = await callTool("remote_write_file", { server: "web1", path, content: "a=1\nb=20\nc=3\n" }, ctx({ approver }));
    expect(write).toMatchObject({ status: "ok", written: { bytes: 13 } });
    expect(write.written?.snapshot?.before).toMatch(/^[0-9a-f]{40}$/);
    expect(shown[0]).toContain("-b=2\n+b=20");
    const diff = "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a=1\n-b=20\n+b=21\n c=3\n";
    const patched = await callTool("remote_patch_file", { server: "web1", path, unified_diff: diff }, ctx({ approver }));
    expect(patched.status).toBe("ok");
    expect(readFileSync(path, "utf8")).toBe("a=1\nb=21\nc=3\n");
    const stale = await callTool("remote_patch_file", { server: "web1", path, unified_diff: diff }, ctx({ approver }));
    expect(stale).toMatchObject({ status: "failed", error: { code: "E_PATCH_MISMATCH" } });
    expect(readFileSync(path, "utf8")).toBe("a=1\nb=21\nc=3\n");
    const junk = await callTool("remote_patch_file", { server: "web1", path, unified_diff: "not a diff" }, ctx({ approver }));
    expect(junk).toMatchObject({ status: "error", error: { code: "E_PATCH_INVALID" } });
  });

  it("list, stat and find", async () => {
    mkdirSync(join(dir, "etc", "conf.d"), { recursive: true });
    writeFileSync(join(dir, "etc", "conf.d", "x.conf"), "x");
    const list = await callTool("remote_list_dir", { server: "web1", path: join(dir, "etc"), recursive: true }, ctx());
    expect(list.entries).toEqual(expect.arrayContaining([expect.objectContaining({ type: "file", size: 1 })]));
    const stat = await callTool("remote_stat", { server: "web1", path: join(dir, "etc") }, ctx());
    expect(stat.stat).toMatchObject({ exists: true, type: "dir" });
    const find = await callTool("remote_find", { server: "web1", path: dir, pattern: "*.conf" }, ctx());
    expect((find.entries as { path: string }[]).map((e) => e.path.slice(dir.length))).toEqual(expect.arrayContaining(["/etc/conf.d/x.conf", "/app.conf"]));
  });

  it("a bound session reaches only its server, whatever the model names", async () => {
    const bound = ctx({ boundServer: "web1" });
    const r = await callTool("remote_exec", { command: "uname -n" }, bound);
    expect(r).toMatchObject({ status: "ok", server: "web1" });
    await expect(callTool("remote_exec", { server: "db1", command: "uname -n" }, bound)).rejects.toThrow(ToolArgumentError);
    const servers = await callTool("list_servers", {}, bound);
    expect(servers.servers).toHaveLength(1);
  });

  it("output is capped with its head and tail kept, and redacted", async () => {
    const big = await callTool("remote_exec", { server: "web1", command: "seq 1 20000" }, ctx({ preApproved: "test:yes", redact: (s) => s.replaceAll("19999", "[REDACTED]") }));
    expect(big.stdout?.truncated).toBe(true);
    expect(big.stdout?.text.startsWith("1\n2\n3\n")).toBe(true);
    expect(big.stdout?.text).toMatch(/\[… \d+ bytes omitted …\]/);
    expect(big.stdout?.text.trimEnd().endsWith("[REDACTED]\n20000")).toBe(true);
    expect(cap("x".repeat(100), false, 40)).toMatchObject({ truncated: true, omittedBytes: 60 });
  });

  it("file names in listings and stat results are redacted too", async () => {
    const secretDir = join(dir, "tok-SECRET123");
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(join(secretDir, "a.conf"), "x");
    const redact = (s: string) => s.replaceAll("SECRET123", "[REDACTED]");
    const list = await callTool("remote_list_dir", { server: "web1", path: dir, recursive: true }, ctx({ redact }));
    expect(JSON.stringify(list.entries)).toContain("tok-[REDACTED]");
    expect(JSON.stringify(list)).not.toContain("SECRET123");
    const found = await callTool("remote_find", { server: "web1", path: dir, pattern: "a.conf" }, ctx({ redact }));
    expect(JSON.stringify(found)).not.toContain("SECRET123");
  });

  it("a remote_exec that times out is killed on the server, not only abandoned", async () => {
    const marker = `${30 + Math.floor(Math.random() * 1000) / 1000}`;
    const r = await callTool("remote_exec", { server: "web1", command: `sleep ${marker}`, timeout: 1 }, ctx({ preApproved: "test:yes" }));
    expect(r).toMatchObject({ status: "failed", exitCode: null, error: { code: "E_EXEC_TIMEOUT" } });
    // The pid line the wrapper prints never reaches the caller.
    expect(r.stderr?.text).toBe("");
    const { spawnSync } = await import("node:child_process");
    expect(spawnSync("pgrep", ["-f", `^sleep ${marker}$`], { encoding: "utf8" }).stdout.trim()).toBe("");
  });
});
