/**
 * `opsterm servers list|show|test` end to end: workspace entries shadowing global ones, --json,
 * validation errors with file:line, and login tests against a real sshd.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keygen, runOpsterm, startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), "opsterm-servers-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const jsonLines = (text: string) => text.trim().split("\n").map((l) => JSON.parse(l));

describe("opsterm servers list/show", () => {
  it("shows workspace entries replacing global ones, with scope and where each is defined", async () => {
    const h = writeOpstermHome({ serversYaml: "servers:\n  web1: { host: 10.0.0.5, user: ubuntu, tags: [web] }\n  db1: { host: 10.0.0.9 }\n" });
    const project = join(scratch, "project");
    mkdirSync(join(project, ".opsterm"), { recursive: true });
    writeFileSync(join(project, ".opsterm", "servers.yaml"), "servers:\n  web1: { host: 127.0.0.1, port: 2222, user: dev }\n  local: { host: 127.0.0.1 }\n");
    try {
      expect((await runOpsterm(["workspace", "trust"], h.env, { cwd: project })).code).toBe(0);
      const text = await runOpsterm(["servers", "list"], h.env, { cwd: project });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^web1\s+dev@127\.0\.0\.1:2222\s+workspace \(overrides global\)$/m);
      expect(text.stdout).toMatch(/^db1\s+\S+@10\.0\.0\.9\s+global$/m);
      expect(text.stdout).toMatch(/^local\s+\S+@127\.0\.0\.1\s+workspace$/m);

      const json = Object.fromEntries(jsonLines((await runOpsterm(["servers", "list", "--json"], h.env, { cwd: project })).stdout).map((s) => [s.id, s]));
      expect(json.web1).toMatchObject({ host: "127.0.0.1", port: 2222, scope: "workspace", at: expect.stringMatching(/\.opsterm\/servers\.yaml:2:3$/), shadows: { scope: "global", at: expect.stringMatching(/servers\.yaml:2:3$/) } });
      expect(json.local.shadows).toBeNull();

      // Outside the project only the global file counts.
      const global = jsonLines((await runOpsterm(["servers", "list", "--json"], h.env, { cwd: scratch })).stdout);
      expect(global.map((s) => s.id).sort()).toEqual(["db1", "web1"]);
      expect(global.find((s) => s.id === "web1")).toMatchObject({ host: "10.0.0.5", scope: "global", shadows: null });

      const show = await runOpsterm(["servers", "show", "web1", "--json"], h.env, { cwd: project });
      expect(JSON.parse(show.stdout)).toMatchObject({ id: "web1", user: "dev", scope: "workspace" });
      const showText = await runOpsterm(["servers", "show", "web1"], h.env, { cwd: project });
      expect(showText.stdout).toMatch(/overrides global .*servers\.yaml:2:3/);
    } finally {
      h.cleanup();
    }
  });

  it.each([
    { name: "an unknown key", yaml: "servers:\n  web1:\n    host: h\n    prot: 22\n", error: /servers\.yaml:4:5: .*unknown key "prot" \(did you mean "port"\?\)/ },
    { name: "a wrong type", yaml: "servers:\n  web1:\n    host: h\n    port: \"ssh\"\n", error: /servers\.yaml:4:\d+: .*port/ },
    { name: "an unknown proxy", yaml: "servers:\n  bastion: { host: b }\n  web1:\n    host: h\n    proxy: bastoin\n", error: /servers\.yaml:5:\d+: .*unknown server "bastoin" \(did you mean "bastion"\?\)/ },
    { name: "a proxy cycle", yaml: "servers:\n  a: { host: a, proxy: b }\n  b: { host: b, proxy: c }\n  c: { host: c, proxy: a }\n", error: /servers\.yaml:\d+:\d+: proxy cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/ },
  ])("refuses $name with file:line:col and exit 78", async ({ yaml, error }) => {
    const h = writeOpstermHome({ serversYaml: yaml });
    try {
      const r = await runOpsterm(["servers", "list"], h.env);
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(error);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      h.cleanup();
    }
  });
});

describe("opsterm servers test", () => {
  it("logs in without running anything; a changed host key fails the run with exit 77", async () => {
    const other = keygen(join(scratch, "other-host-key"));
    const h = writeOpstermHome({
      servers: { good: sshd.server(), bad: { ...sshd.server(), host: "localhost" } },
      knownHosts: [sshd.knownHostsLine(), `[localhost]:${sshd.port} ${other}`],
    });
    try {
      const ok = await runOpsterm(["servers", "test", "good", "--json"], h.env);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ server: "good", ok: true });
      const both = await runOpsterm(["servers", "test", "good,bad", "--json"], h.env);
      expect(both.code).toBe(77);
      const lines = Object.fromEntries(jsonLines(both.stdout).map((l) => [l.server, l]));
      expect(lines.good.ok).toBe(true);
      expect(lines.bad).toMatchObject({ ok: false, error: { code: "E_HOSTKEY_CHANGED" } });
      const text = await runOpsterm(["servers", "test", "good,bad"], h.env);
      expect(text.stdout).toMatch(/^ok\s+good/m);
      expect(text.stdout).toMatch(/^fail\s+bad\s+WARNING: THE HOST KEY/m);
      expect(text.stdout).toMatch(/ssh-keygen -R/);
    } finally {
      h.cleanup();
    }
  });
});
