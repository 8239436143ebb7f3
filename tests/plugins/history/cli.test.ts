/**
 * `opsterm history …` as a user runs it: the CLI bundled with esbuild (sql.js's .wasm inlined,
 * as in dist/opsterm), spawned with OPSTERM_HOME in a temp dir.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundle, tempDir, testStore, ROOT } from "./setup.ts";

let cli: string;

beforeAll(async () => {
  cli = await bundle(join(tempDir("opsterm-history-cli-"), "opsterm.cjs"), { path: join(ROOT, "src/main.ts") });
});

function run(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function seeded() {
  const t = testStore();
  await t.store.record({ mode: "exec", server: "web-1", command: "systemctl restart nginx", exitCode: 0, durationMs: 80, decision: "approval-required", approver: "tty:alice" });
  await t.store.record({ mode: "ask", question: "why is nginx down?", answer: "Port 80 is taken by \x1b[31mapache\x1b[0m.", provider: "ollama", model: "llama3" });
  await t.store.record({ mode: "exec", server: "db-1", command: "pg_dump app", exitCode: 3, durationMs: 5000 });
  return t;
}

describe("opsterm history (CLI)", () => {
  it("`history <words>` searches, and --json gives the entries", async () => {
    const { dir } = await seeded();
    const r = run(dir, "history", "nginx", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { query: string; entries: { input: string; mode: string }[] };
    expect(doc.query).toBe("nginx");
    expect(doc.entries.map((e) => [e.mode, e.input])).toEqual([
      ["ask", "why is nginx down?"],
      ["exec", "systemctl restart nginx"],
    ]);
  });

  it("bare `history` lists the newest entries last, in plain text; --mode and --server filter", async () => {
    const { dir } = await seeded();
    const r = run(dir, "history");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ *1 +\d{4}-\d\d-\d\d \d\d:\d\d +exec +web-1 systemctl restart nginx ✓$/);
    expect(lines[2]).toMatch(/exec +db-1 pg_dump app exit 3$/);
    expect(r.stdout).not.toContain("\x1b");
    const execs = JSON.parse(run(dir, "history", "--mode", "exec", "--server", "db-1", "--json").stdout) as { entries: { input: string }[] };
    expect(execs.entries.map((e) => e.input)).toEqual(["pg_dump app"]);
    expect(JSON.parse(run(dir, "history", "search", "--limit", "1", "--json").stdout).entries).toHaveLength(1);
  });

  it("`history show <id>` prints one entry in full with escapes neutralised; --json gives the object", async () => {
    const { dir } = await seeded();
    const text = run(dir, "history", "show", "2");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("why is nginx down?");
    expect(text.stdout).toContain("Port 80 is taken by ␛[31mapache␛[0m.");
    expect(text.stdout).toMatch(/model +llama3/);
    const json = JSON.parse(run(dir, "history", "show", "1", "--json").stdout);
    expect(json).toMatchObject({ id: 1, kind: "execution", server: "web-1", decision: "approval-required", approver: "tty:alice", exitCode: 0 });
  });

  it("`history rm <id>` deletes it; unknown and malformed ids are clear errors", async () => {
    const { dir } = await seeded();
    expect(run(dir, "history", "rm", "3", "--json")).toMatchObject({ code: 0, stdout: '{"removed":3}\n' });
    expect(JSON.parse(run(dir, "history", "--json").stdout).entries.map((e: { id: number }) => e.id)).toEqual([2, 1]);
    const missing = run(dir, "history", "show", "3");
    expect(missing.code).toBe(65);
    expect(missing.stderr).toContain("No history entry 3");
    const bad = run(dir, "history", "rm", "../etc");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"../etc" is not a history id');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("`history prune --older-than` removes old entries, takes the default from history.retentionDays, rejects bad ages", async () => {
    const t = await seeded();
    t.clock.now = Date.now() - 200 * 86_400_000;
    await t.store.record({ mode: "exec", server: "web-1", command: "echo old" });
    expect(JSON.parse(run(t.dir, "history", "prune", "--older-than", "90d", "--json").stdout).removed).toBe(1);
    expect(run(t.dir, "history", "prune", "--older-than", "soon").code).toBe(2);
    expect(run(t.dir, "history", "prune").code).toBe(2);
    t.clock.now = Date.now() - 3 * 86_400_000;
    await t.store.record({ mode: "exec", server: "web-1", command: "echo three days" });
    writeFileSync(join(t.dir, "config.yaml"), "history:\n  retentionDays: 2\n");
    expect(run(t.dir, "history", "prune")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^removed 1 history entry older than/) });
    writeFileSync(join(t.dir, "config.yaml"), "history:\n  retentionDayz: 2\n");
    const wrong = run(t.dir, "history", "prune");
    expect(wrong.code).toBe(78);
    expect(wrong.stderr).toMatch(/config\.yaml:2:3: .*unknown key "retentionDayz" \(did you mean "retentionDays"\?\)/);
  });

  it("`history --help` shows the group; an empty history says so on stderr", () => {
    const home = tempDir();
    mkdirSync(home, { recursive: true });
    const help = run(home, "history", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/rm <id>/);
    expect(help.stdout).toMatch(/search \[\.\.\.query\]/);
    expect(run(home, "history")).toMatchObject({ code: 0, stdout: "", stderr: "No history yet.\n" });
    expect(run(home, "history", "--json")).toMatchObject({ code: 0, stdout: '{"query":null,"entries":[]}\n' });
  });
});
