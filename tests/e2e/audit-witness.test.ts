/**
 * The audit witness on the built binary (issue 8 §3): a real rsyslogd (own config, own socket,
 * own output file) and a command witness. The attacks from the issue — delete audit.jsonl and
 * head.json, re-hash the whole chain and rewrite head.json, truncate — and an unreadable witness
 * all end `audit verify` with exit 65 naming the first divergence (or the witness).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import auditPlugin from "../../plugins/audit/index.ts";
import { canonical, GENESIS, hashOf, lineOf } from "../../plugins/audit/chain.ts";
import { auditFiles, type HeadAnchor } from "../../plugins/audit/log.ts";
import { logId } from "../../plugins/audit/witness.ts";
import type { AuditInput } from "../../plugins/audit/types.ts";
import { opstermAsync, tempDir } from "../helpers/binary.ts";
import { startRsyslog, type RsyslogHandle } from "../helpers/rsyslog.ts";
import { startSshd, writeOpstermHome, type SshdHandle } from "../helpers/sshd.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

let syslog: RsyslogHandle;
beforeAll(async () => {
  syslog = await startRsyslog();
}, 30_000);
afterAll(async () => {
  await syslog?.stop();
});

const input = (i: number): AuditInput => ({ runId: `run-${i}`, actor: "alice", server: "web-1", action: "exec", args: { command: `echo ${i}` }, phase: "intent" });

function homeWith(config: unknown): string {
  const home = tempDir("opsterm-witness-");
  writeFileSync(join(home, "config.yaml"), JSON.stringify(config), { mode: 0o600 });
  return home;
}

const syslogConfig = () => ({ audit: { witness: "syslog", syslog: { socket: syslog.socket, read: syslog.file } } });

/** Appends n records through the real audit service (which sends each head to the witness). */
async function append(home: string, n: number, from = 1): Promise<string> {
  const t = await createTestKernel([auditPlugin], { home });
  const audit = t.ctx.use("audit");
  for (let i = from; i < from + n; i++) await audit.append(input(i));
  await t.kernel.close?.();
  return t.stderr();
}

async function witnessed(home: string, seq: number): Promise<void> {
  const log = JSON.stringify(logId(auditFiles(home)));
  await syslog.waitFor((l) => l.includes(`"log":${log},"seq":${seq},`));
}

const verify = (home: string, ...args: string[]) => opstermAsync(["audit", "verify", ...args], { home });

/** Rewrites the log as an attacker who knows the format would: every hash recomputed, head.json to match. */
function rehash(home: string, edit: (records: Record<string, unknown>[]) => Record<string, unknown>[]): void {
  const files = auditFiles(home);
  const records = edit(readFileSync(files.log, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>));
  let prev = GENESIS;
  let text = "";
  let lastOffset = 0;
  records.forEach((r, i) => {
    const rec: Record<string, unknown> = { ...r, seq: i + 1, prevHash: prev };
    delete rec.hash;
    const canon = canonical(rec);
    prev = hashOf(prev, canon);
    lastOffset = Buffer.byteLength(text);
    text += lineOf(canon, prev) + "\n";
  });
  writeFileSync(files.log, text);
  const head: HeadAnchor = { version: 1, seq: records.length, hash: prev, bytes: Buffer.byteLength(text), lastOffset };
  writeFileSync(files.head, JSON.stringify(head) + "\n");
}

describe("syslog witness (real rsyslogd)", () => {
  it("each append sends its head to syslog; verify reads them back and agrees", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 3);
    await witnessed(home, 3);
    const line = syslog.lines().find((l) => l.includes(`"seq":2,`) && l.includes(JSON.stringify(logId(auditFiles(home)))))!;
    expect(line).toMatch(/ opsterm-audit\[\d+\]: opsterm-audit-head v1 \{"log":".*audit\.jsonl","seq":2,"hash":"[0-9a-f]{64}","ts":"[^"]+"\}$/);
    const r = await verify(home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 record\(s\).*witness syslog via .*: 3 head\(s\) agree, latest seq 3/);
    const json = JSON.parse((await verify(home, "--json")).stdout);
    expect(json.witness).toMatchObject({ kind: "syslog", checked: true, ok: true, witnessed: 3, lastWitnessed: { seq: 3 } });
  }, 60_000);

  it("audit.jsonl and head.json deleted: exit 65, the witness names what is missing", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 4);
    await witnessed(home, 4);
    const files = auditFiles(home);
    rmSync(files.log);
    rmSync(files.head);
    // The local files alone look like a fresh start…
    expect((await verify(home, "--no-witness")).code).toBe(0);
    // …the witness does not.
    const r = await verify(home);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/broken at seq 1: the witness recorded record 1 .* but the log ends at record 0: the log was deleted or truncated/);
    // A new chain started in its place is caught too.
    await append(home, 2, 100);
    await witnessed(home, 2);
    const after = await verify(home, "--json");
    expect(after.code).toBe(65);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: false, firstBadSeq: 1, witness: { ok: false } });
  }, 60_000);

  it("the whole chain re-hashed from an edited record with head.json rewritten: exit 65 naming the first divergence", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 5);
    await witnessed(home, 5);
    rehash(home, (records) => records.map((r) => (r.seq === 3 ? { ...r, args: { command: "echo innocent" } } : r)));
    expect((await verify(home, "--no-witness")).code).toBe(0);
    const r = await verify(home);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/broken at seq 3: record 3 differs from the head the witness recorded .* the log was rewritten; records up to 2 agree with the witness/);
    const json = JSON.parse((await verify(home, "--json")).stdout);
    expect(json).toMatchObject({ ok: false, firstBadSeq: 3 });
  }, 60_000);

  it("truncated (with head.json rewritten to match, and without): exit 65", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 6);
    await witnessed(home, 6);
    const files = auditFiles(home);
    const original = readFileSync(files.log, "utf8");
    const lines = original.trimEnd().split("\n");
    writeFileSync(files.log, lines.slice(0, 4).join("\n") + "\n");
    const plain = await verify(home);
    expect(plain.code).toBe(65);
    expect(plain.stderr).toMatch(/records 5\.\.6 are missing \(tail truncated\)/);
    rehash(home, (records) => records.slice(0, 4));
    expect((await verify(home, "--no-witness")).code).toBe(0);
    const r = await verify(home);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/broken at seq 5: the witness recorded record 5 .* but the log ends at record 4: the log was deleted or truncated/);
  }, 60_000);

  it("a forged head added to the system log later cannot hide a rewrite: the original heads still disagree", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 2);
    await witnessed(home, 2);
    rehash(home, (records) => records.map((r) => (r.seq === 1 ? { ...r, args: { command: "echo forged" } } : r)));
    const files = auditFiles(home);
    const forged = readFileSync(files.log, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; hash: string; ts: string });
    for (const f of forged) {
      const msg = `opsterm-audit-head v1 ${JSON.stringify({ log: logId(files), seq: f.seq, hash: f.hash, ts: f.ts })}`;
      execFileSync("logger", ["-u", syslog.socket, "-t", "opsterm-audit", "-p", "auth.notice", "--", msg]);
    }
    await syslog.waitFor((l) => l.includes(forged[1].hash));
    const r = await verify(home);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/broken at seq 1: record 1 differs from the head the witness recorded/);
  }, 60_000);

  it("a witness that cannot be read is exit 65 and says which; --no-witness checks only the local files", async () => {
    const home = homeWith({ audit: { witness: "syslog", syslog: { socket: syslog.socket, read: join(syslog.dir, "missing.log") } } });
    await append(home, 1);
    const r = await verify(home);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`the witness (syslog via ${syslog.socket}) cannot be read: the system log ${join(syslog.dir, "missing.log")} does not exist`);
    expect(r.stderr).toContain("--no-witness");
    const skipped = await verify(home, "--no-witness");
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain("the witness was not checked (--no-witness)");
    // A FIFO where the log should be is refused, not read (it would block).
    const fifo = join(syslog.dir, `fifo-${Date.now()}`);
    execFileSync("mkfifo", [fifo]);
    writeFileSync(join(home, "config.yaml"), JSON.stringify({ audit: { witness: "syslog", syslog: { socket: syslog.socket, read: fifo } } }));
    const f = await verify(home);
    expect(f.code).toBe(65);
    expect(f.stderr).toMatch(/cannot be read: the system log .*fifo.* is not a regular file/);
  }, 60_000);

  it("an unreachable syslog does not block appends: warned once, recorded for doctor, visible in verify", async () => {
    const home = homeWith({ audit: { witness: "syslog", syslog: { socket: join(syslog.dir, "no-such.sock"), read: syslog.file } } });
    const stderr = await append(home, 3);
    expect(stderr.match(/audit witness \(syslog\) failed/g)).toHaveLength(1);
    expect(stderr).toContain("no-such.sock");
    expect(readFileSync(auditFiles(home).log, "utf8").trimEnd().split("\n")).toHaveLength(3);
    const doctor = await opstermAsync(["doctor", "--json"], { home });
    const finding = JSON.stringify(JSON.parse(doctor.stdout));
    expect(finding).toMatch(/audit witness.*fail.*failing since .*no-such\.sock/);
    const r = await verify(home);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("the witness holds no head of this log");
  }, 60_000);

  it("audit restart archives the log, announces it, and the new chain verifies", async () => {
    const home = homeWith(syslogConfig());
    await append(home, 2);
    await witnessed(home, 2);
    const restarted = await opstermAsync(["audit", "restart", "--json"], { home });
    expect(restarted.code, restarted.stderr).toBe(0);
    const out = JSON.parse(restarted.stdout);
    expect(out.previous.seq).toBe(2);
    expect(out.archived).toHaveLength(2);
    expect(readdirSync(join(home, "audit")).filter((f) => f.includes(".broken-"))).toHaveLength(2);
    await syslog.waitFor((l) => l.includes("opsterm-audit-restart v1") && l.includes(JSON.stringify(logId(auditFiles(home)))));
    await append(home, 1, 50);
    await witnessed(home, 1);
    await new Promise((r) => setTimeout(r, 200));
    const r = await verify(home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the chain was restarted at .*the previous chain ended at record 2/);
  }, 60_000);

  it("audit.witness is global-only: a trusted workspace cannot switch it off", async () => {
    const home = homeWith(syslogConfig());
    const project = tempDir("opsterm-witness-ws-");
    mkdirSync(join(project, ".opsterm"), { mode: 0o700 });
    writeFileSync(join(project, ".opsterm", "config.yaml"), "audit:\n  witness: none\n  syslog:\n    socket: /nonexistent\n");
    chmodSync(project, 0o755);
    expect((await opstermAsync(["workspace", "trust", project], { home })).code).toBe(0);
    const doctor = await opstermAsync(["doctor", "--json"], { home, cwd: project });
    expect(doctor.stderr).toMatch(/audit\.witness .*audit\.syslog|only the global config may hold/);
    expect(JSON.stringify(JSON.parse(doctor.stdout))).toMatch(/audit witness.*syslog via /);
  }, 60_000);
});

describe("command witness", () => {
  it("gets each head on stdin; verifyCommand reads them back; a rewrite or an unreadable witness is exit 65", async () => {
    const dir = tempDir("opsterm-witness-cmd-");
    const store = join(dir, "heads.jsonl");
    const config = { audit: { witness: { command: ["sh", "-c", 'cat >> "$0"', store], verifyCommand: ["cat", store] } } };
    const home = homeWith(config);
    // One process per record, as the CLI runs (within one process a slow command witness gets
    // only the newest head while it runs; that coalescing is tested below).
    for (let seq = 1; seq <= 3; seq++) await append(home, 1, seq);
    const heads = readFileSync(store, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(heads.map((h) => h.seq)).toEqual([1, 2, 3]);
    expect(heads[0]).toMatchObject({ v: 1, type: "head", log: logId(auditFiles(home)), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const ok = await verify(home);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/witness command sh, read back with cat: 3 head\(s\) agree/);
    rehash(home, (records) => records.map((r) => (r.seq === 2 ? { ...r, server: "db-9" } : r)));
    const bad = await verify(home);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/broken at seq 2: record 2 differs from the head the witness recorded .*verifyCommand line 2/);
    writeFileSync(join(home, "config.yaml"), JSON.stringify({ audit: { witness: { command: ["true"], verifyCommand: ["sh", "-c", "echo unreachable >&2; exit 3"] } } }));
    const unreadable = await verify(home);
    expect(unreadable.code).toBe(65);
    expect(unreadable.stderr).toContain("cannot be read: the witness's verifyCommand (sh) exited with 3: unreachable");
  }, 60_000);

  it("a slow command witness is never in the appends' way: it gets the newest head, in order, and the last one at close", async () => {
    const dir = tempDir("opsterm-witness-slow-");
    const store = join(dir, "heads.jsonl");
    const config = { audit: { witness: { command: ["sh", "-c", 'sleep 0.2; cat >> "$0"', store], verifyCommand: ["cat", store] } } };
    const home = homeWith(config);
    const started = performance.now();
    await append(home, 10);
    const seqs = readFileSync(store, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l).seq as number);
    expect(seqs.at(-1)).toBe(10);
    expect(seqs.length).toBeLessThan(10);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Ten witness runs in a row would take at least 2 s.
    expect(performance.now() - started).toBeLessThan(10 * 200);
    const ok = await verify(home);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`witness command sh, read back with cat: ${seqs.length} head\\(s\\) agree`));
  }, 60_000);
});

describe("end to end through the gate", () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  it("opsterm exec writes intent and result, both witnessed in syslog; doctor shows the witness", async () => {
    const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()], config: syslogConfig() });
    const r = await opstermAsync(["exec", "web1", "--", "uname", "-n"], { home: h.home, env: h.env });
    expect(r.code, r.stderr).toBe(0);
    await witnessed(h.home, 2);
    const v = await opstermAsync(["audit", "verify"], { home: h.home, env: h.env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/2 record\(s\).*2 head\(s\) agree/);
    const doctor = await opstermAsync(["doctor", "--json"], { home: h.home, env: h.env });
    expect(JSON.stringify(JSON.parse(doctor.stdout))).toMatch(/audit witness.*ok.*syslog via .*ok since/);
    expect(existsSync(join(h.home, "audit", "witness.json"))).toBe(true);
    h.cleanup();
  }, 60_000);
});
