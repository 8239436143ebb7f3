/**
 * `opsterm policy check` as a user runs it: a spawned `tsx src/main.ts` with OPSTERM_HOME in a
 * temp dir; plus the plugin's hooks in a real kernel.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import policyPlugin from "../../../plugins/policy/index.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";

const root = join(import.meta.dirname, "../../..");
const tsx = join(root, "node_modules/.bin/tsx");

function run(args: string[], input?: string, home = mkdtempSync(join(tmpdir(), "policy-cli-"))) {
  const r = spawnSync(tsx, [join(root, "src/main.ts"), ...args], {
    input: input ?? "",
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" },
    cwd: home,
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("opsterm policy check", () => {
  it("prints decision, rule, reason and segment, exit 0", () => {
    const r = run(["policy", "check", "--", "ls; sudo rm -rf /etc"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reject\s+rule hard\.rm-root/);
    expect(r.stdout).toContain("reason");
    expect(r.stdout).toContain('segment "sudo rm -rf /etc"');
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("--json --exit-code gives data and 0 / 10 / 77", () => {
    const allow = run(["policy", "check", "--json", "--exit-code", "--", "uptime"]);
    expect(allow.code).toBe(0);
    expect(JSON.parse(allow.stdout)).toMatchObject({ command: "uptime", decision: "auto-allow", rule: "allow.uptime" });
    expect(run(["policy", "check", "--exit-code", "--", "git", "status"]).code).toBe(10);
    expect(run(["policy", "check", "--exit-code", "--", "rm -rf /"]).code).toBe(77);
  });

  it("--explain shows the option-table entry that decided; policy.egress.allow comes from the global config", () => {
    const r = run(["policy", "check", "--explain", "--json", "--", "journalctl -n --vacuum-time=1s"]);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ decision: "approval-required", rule: "approval.option" });
    expect(v.explain.join("\n")).toMatch(/--vacuum-time ARG .*not accepted/);
    expect(v.explain.join("\n")).toMatch(/-n, --lines \[ARG\] \(optional argument/);
    const home = mkdtempSync(join(tmpdir(), "policy-cli-"));
    expect(JSON.parse(run(["policy", "check", "--json", "--", "dig db.internal"], "", home).stdout).rule).toBe("approval.egress");
    writeFileSync(join(home, "config.yaml"), 'policy:\n  egress:\n    allow: ["*.internal", "10.0.0.0/8"]\n');
    expect(JSON.parse(run(["policy", "check", "--json", "--", "dig db.internal @10.0.0.2"], "", home).stdout).decision).toBe("auto-allow");
    expect(JSON.parse(run(["policy", "check", "--json", "--", "dig x.evil.example @10.0.0.2"], "", home).stdout).decision).toBe("approval-required");
  }, 150_000);

  it("without a command is a usage error (exit 2) with a hint", () => {
    const r = run(["policy", "check"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("opsterm policy check --");
  });

  it("--tier applies tier rules from policy.yaml", () => {
    const home = mkdtempSync(join(tmpdir(), "policy-cli-"));
    writeFileSync(join(home, "policy.yaml"), "tiers:\n  prod:\n    ask: [uptime]\n");
    expect(JSON.parse(run(["policy", "check", "--json", "--tier", "prod", "--", "uptime"], "", home).stdout).decision).toBe("approval-required");
    expect(JSON.parse(run(["policy", "check", "--json", "--", "uptime"], "", home).stdout).decision).toBe("auto-allow");
  });

  it("--server takes the tier from servers.yaml; an unknown id is an error, not a silently laxer verdict", () => {
    const home = mkdtempSync(join(tmpdir(), "policy-cli-"));
    writeFileSync(join(home, "servers.yaml"), "servers:\n  db-1: { host: 10.0.0.5, user: ops, tier: prod }\n  web-1: { host: 10.0.0.6, user: ops }\n");
    writeFileSync(join(home, "policy.yaml"), "tiers:\n  prod:\n    deny: [systemctl restart]\n    ask: [uptime]\n");
    const db = run(["policy", "check", "--server", "db-1", "--", "systemctl --no-pager restart nginx"], "", home);
    expect(db.stdout).toMatch(/^reject\s+rule user\.tiers\.prod\.deny\[0\]/);
    expect(db.stdout).toContain("target  server db-1, tier prod");
    expect(JSON.parse(run(["policy", "check", "--json", "--server", "db-1", "--", "uptime"], "", home).stdout)).toMatchObject({ decision: "approval-required", tier: "prod" });
    expect(JSON.parse(run(["policy", "check", "--json", "--server", "web-1", "--", "uptime"], "", home).stdout)).toMatchObject({ decision: "auto-allow", tier: null });
    const typo = run(["policy", "check", "--server", "db1", "--", "uptime"], "", home);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Unknown server "db1" (did you mean "db-1"?)');
    expect(typo.stdout).toBe("");
  });

  it("--server with an empty inventory warns and still applies the server's rules", () => {
    const home = mkdtempSync(join(tmpdir(), "policy-cli-"));
    writeFileSync(join(home, "policy.yaml"), "servers:\n  db-1:\n    deny: [uptime]\n");
    const r = run(["policy", "check", "--json", "--server", "db-1", "--", "uptime"], "", home);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "reject", rule: "user.servers.db-1.deny[0]", server: "db-1", tier: null });
    expect(r.stderr).toContain('server "db-1" is not in the inventory');
  });

  it("--batch skips a UTF-8 byte order mark on the first line", () => {
    const r = run(["policy", "check", "--batch"], '\ufeff"uptime"\n"rm -rf /"\n');
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).decision)).toEqual(["auto-allow", "reject"]);
    expect(r.code).toBe(0);
  });

  it("an invalid policy.yaml rejects with file:line:col", () => {
    const home = mkdtempSync(join(tmpdir(), "policy-cli-"));
    writeFileSync(join(home, "policy.yaml"), "deny:\n  - rm\nbogus: 1\n");
    const out = JSON.parse(run(["policy", "check", "--json", "--", "uptime"], "", home).stdout);
    expect(out).toMatchObject({ decision: "reject", rule: "user.invalid-rules" });
    expect(out.reason).toContain(`${join(home, "policy.yaml")}:3:1`);
  });

  it("--batch answers one JSON object per line, in order, and survives bad lines", () => {
    const lines = ['"uptime"', '"rm -rf /"', "not json", "42", '"ls\\nrm -rf /tmp/x"', '"ls\\ud800"', '"ls & rm -rf /tmp/x"', '""', '"find / -delete"'];
    const r = run(["policy", "check", "--batch"], lines.join("\n") + "\n");
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(out).toHaveLength(lines.length);
    expect(out[0]).toEqual({ command: "uptime", decision: "auto-allow", rule: "allow.uptime", reason: expect.any(String) });
    expect(out[1]).toMatchObject({ command: "rm -rf /", decision: "reject" });
    // A bad line still answers in the same shape, so a reader that only looks at `decision` fails closed.
    expect(out[2]).toMatchObject({ command: "not json", decision: "reject", rule: "input.bad-line", line: 3, error: { code: "E_BATCH_LINE" } });
    expect(out[3]).toMatchObject({ command: "42", decision: "reject", rule: "input.bad-line", line: 4, error: { code: "E_BATCH_LINE" } });
    expect(out[4]).toMatchObject({ command: "ls\nrm -rf /tmp/x", decision: "approval-required", rule: "approval.composed" });
    expect(out[5]).toMatchObject({ decision: "reject", rule: "input.invalid-utf8" });
    expect(out[6]).toMatchObject({ decision: "approval-required", rule: "approval.composed" });
    expect(out[7]).toMatchObject({ decision: "reject", rule: "input.empty" });
    expect(out[8]).toMatchObject({ decision: "reject", rule: "hard.find-delete-root" });
    expect(r.code).toBe(65);
  });

  it("--batch rejects raw bytes that are not UTF-8 and exits 0 when every line was a string", () => {
    const input = Buffer.concat([Buffer.from('"ls '), Buffer.from([0xff, 0xfe]), Buffer.from('"\n"df -h"')]);
    const r = spawnSync(tsx, [join(root, "src/main.ts"), "policy", "check", "--batch"], { input, encoding: "utf8", env: { PATH: process.env.PATH, OPSTERM_HOME: mkdtempSync(join(tmpdir(), "p-")), NO_COLOR: "1" } });
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(out[0]).toMatchObject({ decision: "reject", rule: "input.invalid-utf8" });
    expect(out[1]).toMatchObject({ command: "df -h", decision: "auto-allow" });
    expect(r.status).toBe(0);
  });
});

describe("policy plugin hooks", () => {
  it("beforeAction returns the verdict for exec and file-write for writes", async () => {
    const { kernel } = await createTestKernel([policyPlugin]);
    const base = { server: "web-1", origin: "ai" as const, actor: "ai", runId: "r1", target: { id: "web-1" } };
    expect(await kernel.hooks.call("beforeAction", { ...base, kind: "exec", command: "curl x | sh" })).toMatchObject({ decision: "reject", rule: "hard.pipe-to-shell", by: "policy" });
    expect(await kernel.hooks.call("beforeAction", { ...base, kind: "exec", command: "uptime" })).toMatchObject({ decision: "auto-allow" });
    expect(await kernel.hooks.call("beforeAction", { ...base, kind: "write", command: "write", path: "/etc/hosts" })).toMatchObject({ decision: "approval-required", rule: "policy.file-write" });
    await kernel.close();
  });

  it("provides the policy service: classify() refuses before load(), answers after it", async () => {
    const { kernel, ctx } = await createTestKernel([policyPlugin]);
    expect(() => ctx.use("policy").classify("uptime")).toThrow(/before it was loaded/);
    await ctx.use("policy").load?.();
    expect(ctx.use("policy").classify("rm -rf /").decision).toBe("reject");
    await kernel.close();
  });
});
