import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { corePlugin } from "../../../src/cli/core-plugin.ts";
import { definePlugin, type OpstermPlugin } from "../../../src/kernel/index.ts";
import auditPlugin from "../../../plugins/audit/index.ts";
import { auditFiles, readHead } from "../../../plugins/audit/log.ts";
import type { AuditInput } from "../../../plugins/audit/types.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";
import { runInProcess, tempDir } from "../../helpers/run-cli.ts";

/** JSON lines → objects (the --json rule: one record per line). */
const jsonLines = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l));


const VAULT_VALUE = "vault-value-Zq81xT";

function secrets(values: string[] | (() => never)): OpstermPlugin {
  return definePlugin({ name: "fake-vault", apiVersion: 1, hooks: { secretValues: typeof values === "function" ? values : () => values } });
}

const PLUGINS = [corePlugin, auditPlugin, secrets([VAULT_VALUE])];

async function auditService(home?: string, plugins: OpstermPlugin[] = [auditPlugin, secrets([VAULT_VALUE])]) {
  const t = await createTestKernel(plugins, { home });
  return { ...t, audit: t.ctx.use("audit") };
}

const exec = (over: Partial<AuditInput> = {}): AuditInput => ({ runId: "run-1", actor: "alice", server: "web-1", action: "exec", args: { command: "uptime" }, phase: "intent", ...over });

describe("audit service", () => {
  it("setup does no I/O: the audit dir appears only on the first append", async () => {
    const { home, audit } = await auditService();
    expect(existsSync(join(home, "audit"))).toBe(false);
    await audit.append(exec());
    expect(existsSync(join(home, "audit", "audit.jsonl"))).toBe(true);
  });

  it("append() redacts known secret values and patterns before anything is written", async () => {
    const { home, audit } = await auditService();
    const rec = await audit.append(exec({ args: { command: `PGPASSWORD=pw123456 psql -c "select '${VAULT_VALUE}'"`, env: { TOKEN: VAULT_VALUE } } }));
    expect(rec.args).toEqual({ command: `PGPASSWORD=[REDACTED:env-secret-1] psql -c "select '[REDACTED:secret-1]'"`, env: { TOKEN: "[REDACTED:secret-1]" } });
    const text = readFileSync(join(home, "audit", "audit.jsonl"), "utf8");
    expect(text).not.toContain(VAULT_VALUE);
    expect(text).not.toContain("pw123456");
  });

  it("append() fails closed with E_AUDIT_REDACT when the secret list cannot be read", async () => {
    const { home, audit } = await auditService(undefined, [auditPlugin, secrets((() => { throw new Error("vault is corrupt"); }) as () => never)]);
    await expect(audit.append(exec())).rejects.toMatchObject({ code: "E_AUDIT_REDACT", exitCode: 74 });
    expect(existsSync(join(home, "audit", "audit.jsonl"))).toBe(false);
  });

  it("append() fails closed with exit 74 when the log cannot be written (/dev/full)", async () => {
    const home = tempDir();
    mkdirSync(join(home, "audit"), { recursive: true, mode: 0o700 });
    symlinkSync("/dev/full", join(home, "audit", "audit.jsonl"));
    const { audit } = await auditService(home);
    await expect(audit.append(exec())).rejects.toMatchObject({ code: "E_AUDIT_WRITE", exitCode: 74, message: expect.stringMatching(/nothing was run/) });
  });
});

describe("opsterm audit", () => {
  async function seeded() {
    const { home, audit } = await auditService();
    await audit.append(exec());
    await audit.append(exec({ phase: "result", exitCode: 0, durationMs: 5 }));
    await audit.append(exec({ server: "db-1", runId: "run-2", args: { command: "df -h" } }));
    return { home, audit };
  }
  async function withApprovals() {
    const { home, audit } = await auditService();
    await audit.append(exec({ decision: "approval-required", approver: "flag:--yes" }));
    await audit.append(exec({ action: "approval", phase: "event", decision: "approval-required", approver: "refused:no-tty" }));
    return home;
  }

  it("audit log --json filters by --server, --since and --limit", async () => {
    const { home } = await seeded();
    const all = await runInProcess(["audit", "log", "--json"], { home, plugins: PLUGINS });
    expect(all.code).toBe(0);
    expect(jsonLines(all.stdout).map((r: { seq: number }) => r.seq)).toEqual([1, 2, 3]);
    const db = await runInProcess(["audit", "log", "--json", "--server", "db-1"], { home, plugins: PLUGINS });
    expect(jsonLines(db.stdout).map((r: { server: string }) => r.server)).toEqual(["db-1"]);
    const recent = await runInProcess(["audit", "log", "--json", "--since", "1h", "--limit", "2"], { home, plugins: PLUGINS });
    expect(jsonLines(recent.stdout).map((r: { seq: number }) => r.seq)).toEqual([2, 3]);
    const future = await runInProcess(["audit", "log", "--json", "--since", "2999-01-01"], { home, plugins: PLUGINS });
    expect(jsonLines(future.stdout)).toEqual([]);
    const human = await runInProcess(["audit", "log"], { home, plugins: PLUGINS, env: { NO_COLOR: "1" } });
    expect(human.stdout).toMatch(/^\s+3 {2}\S+ {2}db-1 {2}exec\/intent .* df -h$/m);
    expect(human.stdout).not.toContain("\x1b[");
  });

  it("audit log shows who approved or refused", async () => {
    const home = await withApprovals();
    const r = await runInProcess(["audit", "log"], { home, plugins: PLUGINS, env: { NO_COLOR: "1" } });
    expect(r.stdout).toMatch(/^\s+1 {2}\S+ {2}web-1 {2}exec\/intent {2}approval-required flag:--yes {2}alice {2}uptime$/m);
    expect(r.stdout).toMatch(/^\s+2 {2}\S+ {2}web-1 {2}approval\/event {2}approval-required refused:no-tty {2}alice {2}uptime$/m);
  });

  it("audit log --since rejects a value that is neither a duration nor a date (exit 2)", async () => {
    const { home } = await seeded();
    for (const since of ["yesterday", "2025-02-30", "2025-13-01", "2025-01-31garbage", "2x", "h"]) {
      const r = await runInProcess(["audit", "log", "--since", since], { home, plugins: PLUGINS, env: { NO_COLOR: "1" } });
      expect({ since, code: r.code }).toEqual({ since, code: 2 });
      expect(r.stdout).toBe("");
      // One error line (plus its hint), never a stack trace.
      expect(r.stderr).toMatch(new RegExp(`^error --since "${since}" is neither a duration nor an ISO date \\(E_AUDIT_SINCE\\)\nhint {2}Use e\\.g\\. --since 2h`));
      expect(r.stderr.trim().split("\n")).toHaveLength(2);
    }
    const ok = await runInProcess(["audit", "log", "--json", "--since", "2025-02-28T23:00:00Z"], { home, plugins: PLUGINS });
    expect(jsonLines(ok.stdout)).toHaveLength(3);
  });

  it("audit log warns at a line that is not a record instead of hiding the rest silently", async () => {
    const { home } = await seeded();
    const log = join(home, "audit", "audit.jsonl");
    const lines = readFileSync(log, "utf8").split("\n");
    writeFileSync(log, [lines[0], "{torn", lines[2], ""].join("\n"));
    const r = await runInProcess(["audit", "log", "--json"], { home, plugins: PLUGINS, env: { NO_COLOR: "1" } });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((x: { seq: number }) => x.seq)).toEqual([1]);
    expect(r.stderr).toMatch(/line 2 is not a JSON record; .*opsterm audit verify/);
  });

  it("audit verify exits 0 on an intact log and 65 naming the first bad seq after a byte flip", async () => {
    const { home } = await seeded();
    const ok = await runInProcess(["audit", "verify"], { home, plugins: PLUGINS });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/intact: 3 record/);
    const log = join(home, "audit", "audit.jsonl");
    const buf = readFileSync(log);
    const second = buf.indexOf(0x0a) + 1;
    buf[second + 30] ^= 0x01;
    writeFileSync(log, buf);
    const bad = await runInProcess(["audit", "verify"], { home, plugins: PLUGINS });
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/broken at seq 2/);
    const json = await runInProcess(["audit", "verify", "--json"], { home, plugins: PLUGINS });
    expect(json.code).toBe(65);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBadSeq: 2, records: 1 });
  });

  it("audit verify catches tail truncation even when head.json was rewritten, through the snapshot anchors", async () => {
    const { home, audit } = await seeded();
    await audit.snapshot("web-1", "/etc/x", Buffer.from("x"), "state");
    const files = auditFiles(home);
    const lines = readFileSync(files.log, "utf8").split("\n").slice(0, 2);
    const two = JSON.parse(lines[1]);
    writeFileSync(files.log, lines.map((l) => l + "\n").join(""));
    writeFileSync(files.head, JSON.stringify({ version: 1, seq: 2, hash: two.hash, bytes: readFileSync(files.log).length, lastOffset: lines[0].length + 1 }));
    const r = await runInProcess(["audit", "verify", "--json"], { home, plugins: PLUGINS });
    expect(r.code).toBe(65);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, firstBadSeq: 3, snapshotAnchors: 1 });
  });

  it("audit show prints the intent/result pair and the redacted snapshot diff of a file write", async () => {
    const { home, audit } = await auditService();
    const before = await audit.snapshot("web-1", "/etc/app.env", Buffer.from(`PORT=80\nKEY=${VAULT_VALUE}\n`), "before");
    await audit.append(exec({ runId: "w", action: "write", args: { path: "/etc/app.env" }, snapshot: { path: before.path, before: before.commit } }));
    const after = await audit.snapshot("web-1", "/etc/app.env", Buffer.from(`PORT=8080\nKEY=${VAULT_VALUE}\n`), "after");
    await audit.append(exec({ runId: "w", action: "write", args: { path: "/etc/app.env" }, phase: "result", exitCode: 0, snapshot: { path: after.path, after: after.commit } }));
    expect(readHead(auditFiles(home))?.seq).toBe(2);
    const r = await runInProcess(["audit", "show", "1"], { home, plugins: PLUGINS, env: { NO_COLOR: "1" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/record 1 \(intent\)[\s\S]*record 2 \(result\)/);
    expect(r.stdout).toContain("-PORT=80\n+PORT=8080");
    expect(r.stdout).not.toContain(VAULT_VALUE);
    const j = await runInProcess(["audit", "show", "2", "--json"], { home, plugins: PLUGINS });
    const body = JSON.parse(j.stdout);
    expect(body.records.map((x: { seq: number }) => x.seq)).toEqual([1, 2]);
    expect(body.diff).toContain("+PORT=8080");
    const missing = await runInProcess(["audit", "show", "9"], { home, plugins: PLUGINS });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No audit record with seq 9/);
  });

  it("audit show also finds snapshot refs passed as args.snapshot / args.snapshots (orchestrator style)", async () => {
    const { home, audit } = await auditService();
    const a1 = await audit.snapshot("web-1", "/a", Buffer.from("one\n"), "before");
    const b1 = await audit.snapshot("web-1", "/b", null, "before");
    const a2 = await audit.snapshot("web-1", "/a", Buffer.from("two\n"), "after");
    const b2 = await audit.snapshot("web-1", "/b", Buffer.from("new file\n"), "after");
    await audit.append(exec({ action: "transfer", args: { snapshots: [{ path: a1.path, before: a1.commit }, { path: b1.path, before: b1.commit }] } }));
    await audit.append(exec({ action: "transfer", phase: "result", args: { snapshot: { path: b2.path, after: b2.commit }, snapshots: [{ path: a2.path, after: a2.commit }] } }));
    const r = await runInProcess(["audit", "show", "2", "--json"], { home, plugins: PLUGINS });
    const body = JSON.parse(r.stdout);
    expect(body.diffs.map((d: { path: string }) => d.path).sort()).toEqual([a1.path, b1.path].sort());
    expect(body.diff).toContain("-one\n+two");
    expect(body.diff).toContain("+new file");
  });
});
