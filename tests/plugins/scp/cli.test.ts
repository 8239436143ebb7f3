/**
 * `opsterm put|get|scp` end to end: spawned CLI, real sshd, real policy, real audit log and
 * snapshot repo in a temp OPSTERM_HOME.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOpsterm, startSshd, writeOpstermHome, type OpstermHome, type RunResult, type SshdHandle } from "../../helpers/sshd.ts";

const REPO = new URL("../../../", import.meta.url).pathname;

/** Like runOpsterm, with stdin redirected from a file (large inputs, no EPIPE if the CLI stops early). */
function runWithStdinFile(args: string[], env: Record<string, string>, file: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const fd = openSync(file, "r");
    const child = spawn(join(REPO, "node_modules/.bin/tsx"), [join(REPO, "src/main.ts"), ...args], { cwd: REPO, env, stdio: [fd, "pipe", "pipe"] });
    closeSync(fd);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let sshd: SshdHandle;
let home: OpstermHome;
let remote: string;

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** git on the audit snapshot repo (bare: no work tree). */
function snapshotGit(...args: string[]): string {
  const repo = join(home.home, "audit", "snapshots");
  return execFileSync("git", ["--git-dir", repo, ...args], { encoding: "utf8", env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1", HOME: home.home } });
}

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server({ tags: ["web"] }) }, knownHosts: [sshd.knownHostsLine()] });
  remote = mkdtempSync(join(tmpdir(), "opsterm-scp-cli-"));
});

afterAll(async () => {
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

describe("opsterm put", () => {
  it("writes stdin atomically with --yes, keeps the mode, and commits before/after snapshots", async () => {
    const path = join(remote, "motd");
    writeFileSync(path, "old motd\n");
    chmodSync(path, 0o640);
    const r = await runOpsterm(["put", "web1", path, "--yes", "--json"], home.env, { input: "new motd\n" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ server: "web1", path, bytes: 9, sha256: sha("new motd\n"), mode: "0640", replaced: true, auditStatus: "written", exitCode: 0 });
    expect(readFileSync(path, "utf8")).toBe("new motd\n");
    expect(statSync(path).mode & 0o777).toBe(0o640);
    // Both states are in the snapshot repo, as commits whose trees hold the file's content.
    expect(out.snapshots.before.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(out.snapshots.after.commit).toMatch(/^[0-9a-f]{40}$/);
    const log = snapshotGit("log", "--format=%H", "main");
    expect(log).toContain(out.snapshots.before.commit);
    expect(log).toContain(out.snapshots.after.commit);
    expect(snapshotGit("show", `${out.snapshots.before.commit}:${out.snapshots.before.path}`)).toBe("old motd\n");
    expect(snapshotGit("show", `${out.snapshots.after.commit}:${out.snapshots.after.path}`)).toBe("new motd\n");
    // The audit log's result record carries the refs, for `opsterm audit show`.
    const records = readFileSync(join(home.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const result = records.filter((x) => x.phase === "result" && x.action === "write").at(-1);
    expect(result.snapshot).toMatchObject({ path: out.snapshots.after.path, before: out.snapshots.before.commit, after: out.snapshots.after.commit });
    const show = await runOpsterm(["audit", "show", String(result.seq), "--json"], home.env);
    expect(show.code).toBe(0);
    const diff = JSON.parse(show.stdout).diff as string;
    expect(diff).toContain("-old motd");
    expect(diff).toContain("+new motd");
  });

  it("without a TTY and without --yes is denied with exit 77, and the remote file is untouched", async () => {
    const path = join(remote, "denied.conf");
    writeFileSync(path, "original\n");
    const r = await runOpsterm(["put", "web1", path], home.env, { input: "evil\n" });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/approv/i);
    expect(readFileSync(path, "utf8")).toBe("original\n");
    expect(readdirSync(remote).filter((n) => n.includes(".opsterm-"))).toEqual([]);
  });

  it("creates a new file with --mode and streams a large stdin", async () => {
    const path = join(remote, "big.bin");
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const input = join(mkdtempSync(join(tmpdir(), "opsterm-scp-in-")), "big.in");
    writeFileSync(input, data);
    const r = await runWithStdinFile(["put", "web1", path, "--yes", "--mode", "0600", "--json"], home.env, input);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ bytes: data.length, sha256: sha(data), mode: "0600", replaced: false });
    expect(sha(readFileSync(path))).toBe(sha(data));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("accepts a glob or tag that names exactly one server, and refuses one that names several", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server({ tags: ["web"] }), web2: sshd.server({ tags: ["web", "two"] }) }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const path = join(remote, "by-tag.txt");
      const one = await runOpsterm(["put", "@two", path, "--yes"], h.env, { input: "tagged\n" });
      expect(one.code).toBe(0);
      expect(readFileSync(path, "utf8")).toBe("tagged\n");
      const many = await runOpsterm(["put", "web*", path, "--yes"], h.env, { input: "ambiguous\n" });
      expect(many.code).toBe(2);
      expect(many.stderr).toMatch(/"web\*" matches 2 servers \(web1, web2\)/);
      expect(readFileSync(path, "utf8")).toBe("tagged\n");
    } finally {
      h.cleanup();
    }
  });

  it("names an unknown server with a suggestion (exit 2) and touches nothing", async () => {
    const r = await runOpsterm(["put", "web2", join(remote, "x"), "--yes"], home.env, { input: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did you mean "web1"/);
    expect(existsSync(join(remote, "x"))).toBe(false);
  });
});

describe("opsterm put, fail-closed on snapshots", () => {
  it("does not write when the before-snapshot cannot be committed (exit 74)", async () => {
    // A file where the snapshot repo should be: git cannot create it, so the snapshot fails.
    const broken = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      mkdirSync(join(broken.home, "audit"), { recursive: true, mode: 0o700 });
      writeFileSync(join(broken.home, "audit", "snapshots"), "not a repo\n");
      const path = join(remote, "guarded.conf");
      writeFileSync(path, "guarded\n");
      const r = await runOpsterm(["put", "web1", path, "--yes"], broken.env, { input: "changed\n" });
      expect(r.code).toBe(74);
      expect(r.stderr).toMatch(/before the write failed, so nothing was written/);
      expect(readFileSync(path, "utf8")).toBe("guarded\n");
      expect(readdirSync(remote).filter((n) => n.startsWith(".guarded.conf.opsterm-"))).toEqual([]);
    } finally {
      broken.cleanup();
    }
  });
});

describe("opsterm get", () => {
  it("writes the remote file to stdout with -", async () => {
    const path = join(remote, "hello.txt");
    writeFileSync(path, "hello from the server\n");
    const r = await runOpsterm(["get", "web1", path, "-"], home.env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello from the server\n");
  });

  it("saves to a local file, and reports a missing remote file with exit 1", async () => {
    const path = join(remote, "conf.ini");
    writeFileSync(path, "[a]\nb=1\n");
    const local = join(mkdtempSync(join(tmpdir(), "opsterm-scp-get-")), "copy.ini");
    const r = await runOpsterm(["get", "web1", path, local, "--json"], home.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ bytes: 8, sha256: sha("[a]\nb=1\n") });
    expect(readFileSync(local, "utf8")).toBe("[a]\nb=1\n");
    const missing = await runOpsterm(["get", "web1", join(remote, "nope"), "-"], home.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});

describe("opsterm scp", () => {
  it("copies a directory tree up with -r and back down, byte for byte", async () => {
    const src = mkdtempSync(join(tmpdir(), "opsterm-scp-tree-"));
    mkdirSync(join(src, "site", "css"), { recursive: true });
    writeFileSync(join(src, "site", "index.html"), "<h1>hi</h1>\n");
    writeFileSync(join(src, "site", "css", "a.css"), "body{}\n");
    writeFileSync(join(src, "site", "blob.bin"), randomBytes(2 * 1024 * 1024));
    const up = await runOpsterm(["scp", "-r", join(src, "site"), `web1:${remote}/`, "--yes", "--json"], home.env);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const summary = JSON.parse(up.stdout);
    expect(summary).toMatchObject({ direction: "upload", server: "web1", exitCode: 0 });
    expect(summary.files).toHaveLength(3);
    for (const f of summary.files) expect(f.snapshots.after.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(remote, "site", "css", "a.css"), "utf8")).toBe("body{}\n");

    const back = mkdtempSync(join(tmpdir(), "opsterm-scp-back-"));
    // A recursive download reads every file below the path (keys, .env files): outside /var/log it
    // needs approval (policy.recursive-read), so without a terminal or --yes it is refused.
    const refused = await runOpsterm(["scp", "-r", `web1:${remote}/site`, back, "--json"], home.env);
    expect(refused.code).toBe(77);
    const down = await runOpsterm(["scp", "-r", `web1:${remote}/site`, back, "--yes", "--json"], home.env);
    expect(down.code).toBe(0);
    for (const rel of ["index.html", "css/a.css", "blob.bin"]) {
      expect(sha(readFileSync(join(back, "site", rel)))).toBe(sha(readFileSync(join(src, "site", rel))));
    }
  }, 120_000);

  it("goes through the jump host given with --via", async () => {
    const bastion = await startSshd({ extraConfig: ["LogLevel DEBUG1"] });
    const jumpHome = writeOpstermHome({
      servers: { bastion: bastion.server(), web1: sshd.server() },
      knownHosts: [sshd.knownHostsLine(), bastion.knownHostsLine()],
    });
    try {
      const local = join(mkdtempSync(join(tmpdir(), "opsterm-scp-via-")), "via.txt");
      writeFileSync(local, "through the bastion\n");
      const r = await runOpsterm(["scp", local, `web1:${remote}/via.txt`, "--via", "bastion", "--yes"], jumpHome.env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(readFileSync(join(remote, "via.txt"), "utf8")).toBe("through the bastion\n");
      expect(bastion.logs()).toMatch(new RegExp(`direct-tcpip.*${sshd.port}|port ${sshd.port}`));
    } finally {
      await bastion.stop();
      jumpHome.cleanup();
    }
  });

  it("refuses a directory without -r and two local paths, with usage errors", async () => {
    const src = mkdtempSync(join(tmpdir(), "opsterm-scp-dir-"));
    const noR = await runOpsterm(["scp", src, "web1:/tmp/", "--yes"], home.env);
    expect(noR.code).toBe(2);
    expect(noR.stderr).toMatch(/-r/);
    const local = await runOpsterm(["scp", "./a", "./b"], home.env);
    expect(local.code).toBe(2);
  });
});
