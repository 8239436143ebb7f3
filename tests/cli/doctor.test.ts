/**
 * `opsterm doctor` asks every plugin (the `doctor` hook) for its checks and files, so what is
 * broken in a feature's own state shows up there, and doctor exits 1 for a FAIL.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";
import { definePlugin } from "../../src/kernel/index.ts";
import { runInProcess, tempDir } from "../helpers/run-cli.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; hint?: string }[];
  files: { path: string; description: string; exists: boolean }[];
}

async function doctor(home: string, plugins = BUILTIN_PLUGINS) {
  const r = await runInProcess(["doctor", "--json"], { home, plugins, env: { HOME: home } });
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const check = (report: Report, name: string) => report.checks.find((c) => c.name === name);

describe("opsterm doctor", () => {
  it("on a fresh home: every built-in plugin reports its files, nothing fails, no provider is a warning", async () => {
    const home = tempDir();
    const { code, report } = await doctor(home);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const described = Object.fromEntries(report.files.map((f) => [f.path.slice(home.length + 1), f.description]));
    expect(described).toMatchObject({ "servers.yaml": expect.stringMatching(/inventory/), "audit/audit.jsonl": expect.stringMatching(/audit/), "history.db": expect.stringMatching(/history/) });
    expect(check(report, "ai provider")?.status).toBe("warn");
    expect(check(report, "known_hosts")?.status).toBe("warn");
  });

  it("a servers.yaml with an unknown key is a FAIL naming file:line, exit 1", async () => {
    const home = tempDir();
    writeFileSync(join(home, "servers.yaml"), "servers:\n  web1:\n    host: 10.0.0.5\n    hots: typo\n");
    const { code, report } = await doctor(home);
    expect(code).toBe(1);
    expect(check(report, "servers")).toMatchObject({ status: "fail", detail: expect.stringContaining("servers.yaml:4") });
  });

  it("an invalid policy.yaml is a FAIL: every command would be rejected", async () => {
    const home = tempDir();
    writeFileSync(join(home, "policy.yaml"), "alow:\n  - git status\n");
    const { code, report } = await doctor(home);
    expect(code).toBe(1);
    expect(check(report, "policy rules")).toMatchObject({ status: "fail", detail: expect.stringMatching(/every command is rejected.*policy\.yaml:1/) });
  });

  it("an edited audit log is a FAIL naming the first bad record", async () => {
    const home = tempDir();
    // Two records through the real audit service, then one byte of the first changed.
    const tk = await createTestKernel(BUILTIN_PLUGINS, { home });
    for (const command of ["uptime", "df -h"]) {
      await tk.ctx.use("audit").append({ runId: "r", actor: "t", server: "web1", action: "exec", args: { command }, decision: "auto-allow", rule: "allow", phase: "intent" });
    }
    const log = join(home, "audit", "audit.jsonl");
    expect((await doctor(home)).code).toBe(0);
    writeFileSync(log, readFileSync(log, "utf8").replace("uptime", "uptimf"));
    const { code, report } = await doctor(home);
    expect(code).toBe(1);
    expect(check(report, "audit")).toMatchObject({ status: "fail", detail: expect.stringMatching(/seq 1\b/) });
  });

  it("a plugin's own checks and files appear; a doctor hook that throws is a FAIL row, not a crash", async () => {
    const home = tempDir();
    const mine = definePlugin({ name: "mine", apiVersion: 1, hooks: { doctor: () => [{ kind: "check", name: "widget", status: "ok", detail: "spinning" }, { kind: "file", path: "/etc/widget.conf", description: "widget settings" }] } });
    const good = await doctor(home, [...BUILTIN_PLUGINS, mine]);
    expect(check(good.report, "widget")).toMatchObject({ status: "ok", detail: "spinning" });
    expect(good.report.files).toContainEqual({ path: "/etc/widget.conf", description: "widget settings", exists: false });

    const broken = definePlugin({ name: "broken", apiVersion: 1, hooks: { doctor: () => { throw new Error("cannot reach the widget"); } } });
    const bad = await doctor(home, [...BUILTIN_PLUGINS, broken]);
    expect(bad.code).toBe(1);
    expect(bad.report.checks.find((c) => c.status === "fail")?.detail).toMatch(/broken.*cannot reach the widget|cannot reach the widget/);
  });
});
