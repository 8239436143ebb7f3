import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { definePlugin } from "../../src/kernel/index.ts";
import { corePlugin } from "../../src/cli/core-plugin.ts";
import { runInProcess, tempDir, writeTree } from "../helpers/run-cli.ts";

// A plugin owning config keys, so these tests do not depend on which feature plugins exist.
const owner = definePlugin({
  name: "owner",
  apiVersion: 1,
  config: {
    ai: {
      type: "object",
      properties: {
        api_url: { type: "string" },
        api_key: { type: "string" },
        model: { type: "string" },
        temperature: { type: "number", min: 0, max: 2 },
        max_tokens: { type: "number", integer: true },
      },
    },
    tags: { type: "array", items: { type: "string" } },
  },
});
const plugins = [corePlugin, owner];

function world(files: Record<string, string>) {
  const home = tempDir();
  const project = tempDir("project-");
  writeTree(home, Object.fromEntries(Object.entries(files).filter(([k]) => !k.startsWith("project/"))));
  writeTree(project, Object.fromEntries(Object.entries(files).filter(([k]) => k.startsWith("project/")).map(([k, v]) => [k.slice(8), v])));
  return { home, project, run: (argv: string[]) => runInProcess(argv, { home, cwd: project, plugins }) };
}

describe("config", () => {
  it("config list merges global and workspace, workspace wins, and says where each value came from", async () => {
    const w = world({
      "config.yaml": "ai:\n  model: gpt-4o\n  temperature: 0.7\n",
      "project/.opsterm/config.yaml": "ai:\n  temperature: 0.1\n",
    });
    expect((await w.run(["workspace", "trust"])).code).toBe(0);
    const r = await w.run(["config", "list", "--json"]);
    expect(r.code).toBe(0);
    const values = JSON.parse(r.stdout).values;
    expect(values).toEqual([
      expect.objectContaining({ key: "ai.model", value: "gpt-4o", scope: "global", at: `${join(w.home, "config.yaml")}:2:10` }),
      expect.objectContaining({
        key: "ai.temperature",
        value: 0.1,
        scope: "workspace",
        at: `${join(w.project, ".opsterm", "config.yaml")}:2:16`,
        shadows: expect.objectContaining({ scope: "global", value: 0.7 }),
      }),
    ]);
  });

  it("accepts the original OpsTerm config.yaml shape", async () => {
    const w = world({ "config.yaml": "ai:\n  api_url: https://api.openai.com/v1\n  api_key: sk-test-123456\n  model: gpt-4o-mini\n  temperature: 0.7\n  max_tokens: 2000\n" });
    expect((await w.run(["config", "get", "ai.max_tokens"])).stdout).toBe("2000\n");
    const listed = await w.run(["config", "list"]);
    expect(listed.stdout).not.toContain("sk-test-123456");
    expect(listed.stdout).toMatch(/ai\.api_key\s+\*{8}/);
  });

  it.each([
    { name: "unknown key", text: "ai:\n  modle: x\n", message: /config\.yaml:2:3: ai\.modle: unknown key "modle" \(did you mean "model"\?\)/ },
    { name: "wrong type", text: "ai:\n  temperature: hot\n", message: /config\.yaml:2:16: ai\.temperature: expected a number, got string "hot"/ },
    { name: "out of range", text: "ai:\n  temperature: 5\n", message: /config\.yaml:2:16: .*at most 2/ },
    { name: "unknown top-level key", text: "colour: red\n", message: /config\.yaml:1:1: colour: unknown key/ },
    { name: "YAML syntax", text: "ai:\n  model: [unclosed\n", message: /config\.yaml:\d+:\d+: invalid YAML/ },
    { name: "duplicate key", text: "ai:\n  model: a\n  model: b\n", message: /config\.yaml:3:3: invalid YAML/ },
    { name: "NaN", text: "ai:\n  temperature: .nan\n", message: /config\.yaml:2:16: ai\.temperature: expected a number, got \.nan \(not a number\)/ },
    { name: "infinity", text: "ai:\n  max_tokens: .inf\n", message: /config\.yaml:2:15: ai\.max_tokens: expected a number, got an infinite number/ },
    { name: "a list at the top", text: "- ai\n", message: /config\.yaml:1:1: the file must be a mapping of keys to values/ },
  ])("rejects a config with $name, pointing at file:line:col (exit 78)", async ({ text, message }) => {
    const w = world({ "config.yaml": text });
    const r = await w.run(["config", "list"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("config set writes atomically with mode 0600, keeps comments, and validates before writing", async () => {
    const w = world({ "config.yaml": "# my settings\nai:\n  model: gpt-4o # the default\n" });
    expect((await w.run(["config", "set", "ai.temperature", "0.3"])).code).toBe(0);
    const file = join(w.home, "config.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# my settings");
    expect(text).toContain("# the default");
    expect(text).toContain("temperature: 0.3");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const bad = await w.run(["config", "set", "ai.temperature", "9"]);
    expect(bad.code).toBe(78);
    expect(readFileSync(file, "utf8")).toBe(text);
    const typo = await w.run(["config", "set", "ai.modl", "x"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "ai.model"');
  });

  it("config set --workspace writes the project's file; a trusted workspace stays trusted and wins over global", async () => {
    const w = world({ "config.yaml": "ai:\n  model: global-model\n", "project/.opsterm/.keep": "" });
    expect((await w.run(["workspace", "trust"])).code).toBe(0);
    expect((await w.run(["config", "set", "ai.model", "ws-model", "--workspace"])).code).toBe(0);
    expect(readFileSync(join(w.project, ".opsterm", "config.yaml"), "utf8")).toContain("ws-model");
    expect(await w.run(["config", "get", "ai.model"])).toMatchObject({ stdout: "ws-model\n", stderr: "" });
  });

  it("config set --workspace into an untrusted workspace writes the file, says it is not used yet, and it is not", async () => {
    const w = world({ "config.yaml": "ai:\n  model: global-model\n" });
    const set = await w.run(["config", "set", "ai.model", "ws-model", "--workspace"]);
    expect(set.code).toBe(0);
    expect(set.stderr).toContain(`workspace ${join(w.project, ".opsterm")} is not trusted, so what was written there is not used yet`);
    expect(readFileSync(join(w.project, ".opsterm", "config.yaml"), "utf8")).toContain("ws-model");
    const get = await w.run(["config", "get", "ai.model"]);
    expect(get.stdout).toBe("global-model\n");
    expect(get.stderr).toContain(`opsterm workspace trust ${w.project}`);
  });

  it("config set --workspace refuses a global-only key, and $HOME/.opsterm as a workspace", async () => {
    const guarded = definePlugin({ name: "guarded", apiVersion: 1, config: { ssh: { type: "object", properties: { hostKeys: { type: "string", globalOnly: true } } } } });
    const w = world({});
    const r = await runInProcess(["config", "set", "ssh.hostKeys", "accept-new", "--workspace"], { home: w.home, cwd: w.project, plugins: [corePlugin, guarded] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"ssh.hostKeys" can only be set in the global config');
    expect(existsSync(join(w.project, ".opsterm"))).toBe(false);
    const home = tempDir("home-");
    const inHome = await runInProcess(["config", "set", "ai.model", "x", "--workspace"], { home: tempDir(), cwd: home, env: { HOME: home }, plugins });
    expect(inHome.code).toBe(2);
    expect(inHome.stderr).toContain("(E_WORKSPACE_RESERVED)");
    expect(existsSync(join(home, ".opsterm"))).toBe(false);
  });

  it("config set refuses a value of the wrong type before touching the file, with a hint", async () => {
    const w = world({});
    const r = await w.run(["config", "set", "ai.temperature", "warm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"ai.temperature" expects a number, got "warm"');
    expect(r.stderr).toContain("hint  Give a number, e.g. opsterm config set ai.temperature 1");
    expect(existsSync(join(w.home, "config.yaml"))).toBe(false);
  });

  it("config set --unset removes the key (and the mapping it leaves empty), and needs no value", async () => {
    const w = world({ "config.yaml": "tags: [a] # kept\nai:\n  model: gpt-4o\n" });
    expect((await w.run(["config", "set", "ai.model", "--unset"])).code).toBe(0);
    expect(readFileSync(join(w.home, "config.yaml"), "utf8")).toBe("tags: [ a ] # kept\n");
    expect((await w.run(["config", "get", "ai.model"])).code).toBe(1);
    expect((await w.run(["config", "set", "ai.model", "x", "--unset"])).code).toBe(2);
    const missing = await w.run(["config", "set", "ai.model"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing the value for "ai.model"');
  });

  it("config get exits 1 for an unset key and 2 for an unknown one", async () => {
    const w = world({});
    expect((await w.run(["config", "get", "ai.model"])).code).toBe(1);
    expect((await w.run(["config", "get", "nope.key"])).code).toBe(2);
  });

  it("config path --json names the directories", async () => {
    const w = world({ "project/.opsterm/.keep": "" });
    const facts = JSON.parse((await w.run(["config", "path", "--json"])).stdout);
    expect(facts).toMatchObject({ configDir: w.home, dataDir: w.home, workspaceDir: join(w.project, ".opsterm") });
  });
});
