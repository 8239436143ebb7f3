/**
 * `opsterm undo` end to end: the built binary, a real sshd on loopback, the real policy, audit log
 * and snapshot repo in a temp OPSTERM_HOME. Undo restores bytes, mode and owner, removes files
 * that did not exist, refuses files that changed since (75, three-way diff, nothing written) and
 * exec records, asks for approval (77 without a terminal), and is itself undoable.
 */
import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryPath, opstermAsync, requireBuilt, type Run } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let remote: string;

function cli(args: string[], input = ""): Promise<Run> {
  return opstermAsync(args, { home: home.home, env: home.env, input });
}

interface Rec {
  seq: number;
  runId: string;
  action: string;
  phase: string;
  args: Record<string, unknown>;
}
function records(): Rec[] {
  return readFileSync(join(home.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Rec);
}
const lastRecord = () => records().at(-1)!;

async function verifyAudit(): Promise<void> {
  const v = await cli(["audit", "verify", "--json"]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });
}

/** Runs the binary on a pseudo-terminal (util-linux `script`), typing `answer` at the approval prompt. */
function onTty(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [requireBuilt(), ...args].map(q).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", cmd, "/dev/null"], { cwd: home.home, env: { ...home.env, SHELL: "/bin/sh", TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    let answered = false;
    const onData = (c: Buffer) => {
      output += c.toString();
      if (!answered && /Run it\?/.test(output)) {
        answered = true;
        child.stdin.write(answer + "\r");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}

beforeAll(async () => {
  requireBuilt();
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  remote = mkdtempSync(join(tmpdir(), "opsterm-undo-"));
  chmodSync(remote, 0o755);
});

afterAll(async () => {
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

// Several runs of the binary per test: generous limits for a loaded machine (load 10+).
describe("opsterm undo SEQ", { timeout: 150_000 }, () => {
  // chown to other users needs root: CI runs as root (.ci/run), as does the sshd it starts.
  it("restores the bytes, mode and owner of the file as it was before a put; the undo is an audited, snapshotted write", async () => {
    const path = join(remote, "app.conf");
    writeFileSync(path, "port = 80\n");
    chmodSync(path, 0o640);
    chownSync(path, 1234, 2345);
    const put = await cli(["put", "web1", path, "--mode", "0600", "--yes", "--json"], "port = 8080\n");
    expect(put.code, put.stderr).toBe(0);
    const seq = JSON.parse(put.stdout).auditSeq as number;
    // The write kept the owner and took the new mode; someone then changes the owner (not the content).
    expect(statSync(path).mode & 0o777).toBe(0o600);
    chownSync(path, 4321, 5432);

    // The put's records: the before state (mode, owner, sha256) is in the result's snapshot entry.
    const result = records().find((r) => r.seq > seq && r.action === "write" && r.phase === "result")!;
    const entry = (result.args.snapshots as Record<string, unknown>[])[0];
    expect(entry).toMatchObject({ remote: path, beforeState: { exists: true, mode: "0640", uid: 1234, gid: 2345, size: 10, stored: true }, afterState: { exists: true, mode: "0600", uid: 1234, gid: 2345 } });

    const undo = await cli(["undo", String(seq), "--yes"]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toContain(`restored web1:${path}`);
    expect(undo.stdout).toContain("mode 0640, owner 1234:2345");
    expect(readFileSync(path, "utf8")).toBe("port = 80\n");
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o640);
    expect([st.uid, st.gid]).toEqual([1234, 2345]);
    expect(readdirSync(remote).filter((n) => n.includes(".opsterm-"))).toEqual([]);

    // The undo went through the gate: a read of the current state, then an approved write with its snapshots.
    const tail = records().slice(-4);
    expect(tail.map((r) => `${r.action}/${r.phase}`)).toEqual(["read/intent", "read/result", "write/intent", "write/result"]);
    expect(tail[2]).toMatchObject({ approver: "flag:--yes", decision: "approval-required", args: { kind: "write", path } });
    expect(String(tail[2].args.command)).toMatch(/^undo #\d+: restore file/);
    expect((tail[3].args.snapshots as unknown[]).length).toBe(1);
    await verifyAudit();
  });

  it("undo --last of an undo puts the write back (undo of an undo), and --json reports it", async () => {
    const path = join(remote, "twice.txt");
    writeFileSync(path, "one\n");
    const put = await cli(["put", "web1", path, "--yes"], "two\n");
    expect(put.code, put.stderr).toBe(0);
    const first = await cli(["undo", "--last", "--yes", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("one\n");
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ ok: true, dryRun: false, exitCode: 0, files: [{ server: "web1", path, op: "restore", status: "undone" }] });
    expect(report.files[0].auditSeq).toBeGreaterThan(0);
    // The last write is now the undo itself: undoing it redoes the put.
    const redo = await cli(["undo", "--last", "--yes"]);
    expect(redo.code, redo.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("two\n");
    const again = await cli(["undo", "--last", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("one\n");
    await verifyAudit();
  });

  it("removes a file that did not exist before the write, and an undo of that removal brings it back", async () => {
    const path = join(remote, "new-file.txt");
    expect(existsSync(path)).toBe(false);
    const put = await cli(["put", "web1", path, "--mode", "0604", "--yes", "--json"], "created\n");
    expect(put.code, put.stderr).toBe(0);
    const undo = await cli(["undo", String(JSON.parse(put.stdout).auditSeq), "--yes"]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toContain(`removed web1:${path}`);
    expect(existsSync(path)).toBe(false);
    const removal = records().filter((r) => r.action === "write" && r.phase === "result").at(-1)!;
    expect(removal.args).toMatchObject({ removed: 1, snapshots: [{ remote: path, beforeState: { exists: true, mode: "0604" }, afterState: { exists: false } }] });
    const back = await cli(["undo", "--last", "--yes"]);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("created\n");
    expect(statSync(path).mode & 0o777).toBe(0o604);
    await verifyAudit();
  });

  it("a file changed since the write: exit 75 with a three-way diff, and nothing is written", async () => {
    const path = join(remote, "changed.conf");
    writeFileSync(path, "a\nb\nc\n");
    const put = await cli(["put", "web1", path, "--yes", "--json"], "a\nB\nc\n");
    expect(put.code, put.stderr).toBe(0);
    writeFileSync(path, "a\nB\nc\nd\n");
    const before = records().length;
    const undo = await cli(["undo", String(JSON.parse(put.stdout).auditSeq), "--yes"]);
    expect(undo.code).toBe(75);
    expect(undo.stderr).toMatch(/changed since write #\d+.*nothing was written/);
    expect(undo.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length).toBe(1);
    // before → as written, then as written → now.
    expect(undo.stdout).toContain("three-way diff");
    expect(undo.stdout).toMatch(/-b\n\+B/);
    expect(undo.stdout).toMatch(/\+d/);
    expect(readFileSync(path, "utf8")).toBe("a\nB\nc\nd\n");
    // Only the read of the current state was recorded: no write was attempted.
    expect(records().slice(before).map((r) => `${r.action}/${r.phase}`)).toEqual(["read/intent", "read/result"]);

    const json = await cli(["undo", String(JSON.parse(put.stdout).auditSeq), "--yes", "--json"]);
    expect(json.code).toBe(75);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: false, exitCode: 75, error: { code: "E_UNDO_CONFLICT" }, files: [{ status: "conflict" }] });
    expect(report.files[0].conflict.written).toContain("+B");
    expect(report.files[0].conflict.since).toContain("+d");
    expect(readFileSync(path, "utf8")).toBe("a\nB\nc\nd\n");
  });

  it("refuses an exec record with one line (65): a command's changes cannot be undone", async () => {
    const ran = await cli(["exec", "web1", "--yes", "--", "touch", join(remote, "by-exec")]);
    expect(ran.code, ran.stderr).toBe(0);
    const intent = records().filter((r) => r.action === "exec" && r.phase === "intent").at(-1)!;
    for (const seq of [intent.seq, intent.seq + 1]) {
      const undo = await cli(["undo", String(seq), "--yes"]);
      expect(undo.code).toBe(65);
      expect(undo.stderr).toMatch(/^error .*exec command.*cannot undo what a command changed/);
      expect(undo.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(remote, "by-exec"))).toBe(true);
    const read = await cli(["get", "web1", join(remote, "by-exec"), "-"]);
    expect(read.code).toBe(0);
    const notWrite = await cli(["undo", String(records().at(-2)!.seq)]);
    expect(notWrite.code).toBe(65);
    expect(notWrite.stderr).toMatch(/changes nothing/);
    const missing = await cli(["undo", "999999"]);
    expect(missing.code).toBe(2);
  });

  it("without a terminal and without --yes the undo is refused (77) and nothing is written; --dry-run writes nothing", async () => {
    const path = join(remote, "ask.conf");
    writeFileSync(path, "v1\n");
    const put = await cli(["put", "web1", path, "--yes", "--json"], "v2\n");
    const seq = String(JSON.parse(put.stdout).auditSeq);
    const denied = await cli(["undo", seq]);
    expect(denied.code).toBe(77);
    expect(denied.stderr).toMatch(/approv/i);
    expect(readFileSync(path, "utf8")).toBe("v2\n");
    expect(lastRecord()).toMatchObject({ action: "approval", phase: "event", approver: "refused:no-tty" });

    const dry = await cli(["undo", seq, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would restore web1:${path}`);
    expect(dry.stdout).toMatch(/-v2\n\+v1/);
    expect(dry.stderr).toMatch(/nothing was written/);
    expect(readFileSync(path, "utf8")).toBe("v2\n");
    expect(records().filter((r) => r.action === "write").at(-1)!.seq).toBeLessThan(Number(seq) + 2);
    await verifyAudit();
  });

  it("asks on a terminal: yes restores, no leaves the file", async () => {
    const path = join(remote, "tty.conf");
    writeFileSync(path, "old\n");
    const put = await cli(["put", "web1", path, "--yes", "--json"], "new\n");
    const seq = String(JSON.parse(put.stdout).auditSeq);
    const no = await onTty(["undo", seq], "n");
    expect(no.output).toContain("approval required");
    expect(no.output).toContain("-new");
    expect(no.code).toBe(77);
    expect(readFileSync(path, "utf8")).toBe("new\n");
    const yes = await onTty(["undo", seq], "y");
    expect(yes.code, yes.output).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("old\n");
  });
});

describe("opsterm undo RUN", { timeout: 150_000 }, () => {
  it("undoes every write of a run, newest first; the undo's own run (several writes) can be undone in turn", async () => {
    const parent = mkdtempSync(join(tmpdir(), "opsterm-undo-tree-"));
    const local = join(parent, "site");
    mkdirSync(join(local, "sub"), { recursive: true });
    writeFileSync(join(local, "a.txt"), "A new\n");
    writeFileSync(join(local, "sub", "b.txt"), "B new\n");
    const dest = join(remote, "site");
    mkdirSync(join(dest, "sub"), { recursive: true });
    writeFileSync(join(dest, "a.txt"), "A old\n");
    chmodSync(join(dest, "a.txt"), 0o600);
    // Into the existing directory: site/a.txt is replaced, site/sub/b.txt is new.
    const scp = await cli(["scp", "-r", local, `web1:${remote}`, "--yes", "--json"]);
    expect(scp.code, scp.stderr).toBe(0);
    rmSync(parent, { recursive: true, force: true });
    const upload = records().filter((r) => r.action === "write" && r.phase === "result").at(-1)!;
    expect(readFileSync(join(dest, "sub", "b.txt"), "utf8")).toBe("B new\n");

    const undo = await cli(["undo", upload.runId, "--yes", "--json"]);
    expect(undo.code, undo.stderr).toBe(0);
    const report = JSON.parse(undo.stdout);
    expect(report.run).toBe(upload.runId);
    expect(report.files.map((f: { path: string; op: string }) => [f.path, f.op]).sort()).toEqual([
      [join(dest, "a.txt"), "restore"],
      [join(dest, "sub", "b.txt"), "remove"],
    ]);
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("A old\n");
    expect(statSync(join(dest, "a.txt")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dest, "sub", "b.txt"))).toBe(false);

    // That undo made two write records in one run: undoing its run replays the upload, newest first.
    const undoRun = records().filter((r) => r.action === "write" && r.phase === "result").at(-1)!.runId;
    expect(records().filter((r) => r.runId === undoRun && r.action === "write" && r.phase === "result")).toHaveLength(2);
    const redo = await cli(["undo", undoRun.slice(0, 8), "--yes", "--json"]);
    expect(redo.code, redo.stderr).toBe(0);
    const redone = JSON.parse(redo.stdout).files as { writes: number[] }[];
    expect(redone[0].writes[0]).toBeGreaterThan(redone[1].writes[0]);
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("A new\n");
    expect(readFileSync(join(dest, "sub", "b.txt"), "utf8")).toBe("B new\n");
    await verifyAudit();
  });

  it("a run id no record has is a usage error (2)", async () => {
    const r = await cli(["undo", "no-such-run-id"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No audit record has run id or conversation/);
    expect(binaryPath).toContain("dist");
  });
});
