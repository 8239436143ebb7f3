/**
 * The one --json rule (README "Machine-readable output"): with --json, stdout is JSON lines —
 * every line one JSON object; a command that reports one thing prints one line, a list prints one
 * line per item — and an error is one JSON object {"error": {...}} on stderr. This test walks the
 * whole command registry, so a new command cannot skip the rule; and `--json` appears once in
 * every command's help.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";
import { runInProcess, tempDir } from "../helpers/run-cli.ts";

/** Arguments that make each command do its real work (or fail in its own way) without a server. */
const ARGS: Record<string, string[]> = {
  ask: ["hello"],
  "audit show": ["1"],
  completion: ["bash"],
  "config get": ["ai.model"],
  "config set": ["ai.model", "m2"],
  exec: ["web1", "--", "uptime"],
  get: ["web1", "/etc/hostname", "-"],
  "history rm": ["1"],
  "history show": ["1"],
  "history prune": ["--older-than", "30d"],
  init: ["bash"],
  "plugin add": ["/nonexistent/plugin.mjs"],
  "plugin remove": ["nothing"],
  "policy check": ["--", "ls", "-la"],
  "provider test": [],
  put: ["web1", "/tmp/x"],
  scp: ["./a", "web1:/tmp/a"],
  "servers add": ["new1", "10.0.0.9"],
  "servers rm": ["nothing"],
  "servers show": ["web1"],
  "servers test": ["nothing"],
  ssh: ["nothing"],
  "vault get": ["k"],
  "vault import": ["--env-file", "/nonexistent"],
  "vault rm": ["k"],
  "vault set": ["k"],
  "workspace trust": ["/nonexistent-dir"],
  "workspace untrust": ["/nonexistent-dir"],
};

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());

const commands = BUILTIN_PLUGINS.flatMap((p) => p.commands ?? []).filter((c) => !c.hidden);

describe("--json, every command", () => {
  it("the registry has the commands this test walks", () => {
    expect(commands.length).toBeGreaterThan(30);
  });

  it.each(commands.map((c) => [c.name]))("%s --json: stdout is JSON lines of objects; an error is one JSON object on stderr", async (name) => {
    const home = tempDir("opsterm-json-");
    writeFileSync(join(home, "servers.yaml"), "servers:\n  web1: {host: 127.0.0.1, port: 1}\n");
    const argv = [...name.split(" "), "--json", ...(ARGS[name] ?? [])];
    const r = await runInProcess(argv, { home, env: { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m", NO_COLOR: "1" }, stdin: "" });
    const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
    for (const line of lines) {
      let value: unknown;
      expect(() => (value = JSON.parse(line)), `${name}: stdout line is not JSON: ${line.slice(0, 120)}`).not.toThrow();
      expect(typeof value === "object" && value !== null && !Array.isArray(value), `${name}: stdout line is not a JSON object: ${line.slice(0, 120)}`).toBe(true);
    }
    if (r.code === 0 || (r.stderr.trim() === "" && lines.length > 0)) {
      // Exit 0 (an empty list is no lines), or an exit code that is the answer (config get of an unset key, workspace status).
    } else {
      const last = r.stderr.trim().split("\n").at(-1) ?? "";
      let error: { error?: { code?: string; message?: string; exitCode?: number } } = {};
      expect(() => (error = JSON.parse(last)), `${name}: exit ${r.code}, last stderr line is not JSON: ${last.slice(0, 160)}`).not.toThrow();
      expect(error.error?.code, `${name}: ${last}`).toMatch(/^E_/);
      if (error.error?.exitCode !== undefined) expect(error.error.exitCode).toBe(r.code);
    }
  }, 30_000);

  it.each(commands.map((c) => [c.name]))("%s --help lists --json once", async (name) => {
    const r = await runInProcess([...name.split(" "), "--help"], { home: tempDir("opsterm-json-") });
    const options = r.stdout.split(/\n\S*Examples:/)[0];
    expect(options.match(/--json\b/g) ?? [], name).toHaveLength(1);
  });
});
