/**
 * The commands the original OpsTerm's users type, on the built binary: servers ping/edit/rename,
 * provider add/rm/default, search, export/import, and the original's words opsterm has no command
 * for (web, update, reset), which must never become a question for the model.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { baseEnv, opstermAsync, tempDir } from "../helpers/binary.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => ai.reset());

const run = (args: string[], env: Record<string, string>, input?: string) => opstermAsync(args, { home: env.HOME, env, clean: true, input });
const fresh = () => {
  const home = tempDir("opsterm-orig-cmds-");
  return { home, env: { ...baseEnv(home), NO_COLOR: "1" } };
};
const yamlOf = (path: string) => YAML.parse(readFileSync(path, "utf8")) as Record<string, Record<string, Record<string, unknown>>>;

describe("servers ping, edit, rename", () => {
  it("ping is servers test; edit changes only the fields given; rename carries proxies along", async () => {
    const { home, env } = fresh();
    expect((await run(["servers", "add", "bastion", "198.51.100.5", "--user", "ubuntu"], env)).code).toBe(0);
    expect((await run(["servers", "add", "web1", "10.0.0.5", "--user", "deploy", "--proxy", "bastion", "--desc", "front"], env)).code).toBe(0);

    const ping = await run(["servers", "ping", "nosuch"], env);
    expect(ping.code).toBe(2);
    expect(ping.stderr).toContain('Unknown server "nosuch"');
    expect((await run(["servers", "ping", "--help"], env)).stdout).toContain("servers test");

    const edit = await run(["servers", "edit", "web1", "--host", "10.0.0.7", "--port", "2222"], env);
    expect(edit.code, edit.stderr).toBe(0);
    expect(yamlOf(join(home, "servers.yaml")).servers.web1).toEqual({ host: "10.0.0.7", user: "deploy", proxy: "bastion", desc: "front", port: 2222 });
    const unset = await run(["servers", "edit", "web1", "--unset", "desc"], env);
    expect(unset.code, unset.stderr).toBe(0);
    expect(yamlOf(join(home, "servers.yaml")).servers.web1.desc).toBeUndefined();
    expect((await run(["servers", "edit", "web1", "--port", "70000"], env)).code).toBe(2);
    expect((await run(["servers", "edit", "nosuch", "--port", "22"], env)).stderr).toContain("E_SERVER_UNKNOWN");
    expect((await run(["servers", "edit", "web1"], env)).code).toBe(2);

    const rename = await run(["servers", "rename", "bastion", "jump"], env);
    expect(rename.code, rename.stderr).toBe(0);
    expect(rename.stdout).toContain("proxy of web1 updated");
    const list = (await run(["servers", "list", "--json"], env)).stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; via: string[] });
    expect(list.map((s) => [s.id, s.via])).toEqual([["jump", []], ["web1", ["jump"]]]);
    expect((await run(["servers", "rename", "jump", "web1"], env)).stderr).toContain("E_SERVER_EXISTS");
  }, 60_000);
});

describe("provider add, rm, default", () => {
  it("writes opsterm's keys, keeps a piped key in the vault, sets and moves the default; ask uses it", async () => {
    const { home, env } = fresh();
    const venv = { ...env, OPSTERM_VAULT_PASSWORD: "provider pass phrase" };
    expect((await run(["vault", "init", "--log-n", "15"], venv)).code).toBe(0);
    const add = await run(["provider", "add", "fake", "--api-url", `${ai.baseUrl}/chat/completions`, "--model", "m-1", "--api-key", "-"], venv, "sk-piped-key-123456\n");
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("the API key is in the vault as fake_api_key");
    expect(add.stdout).toContain("fake is now the default provider");
    const config = yamlOf(join(home, "config.yaml"));
    expect(config.providers.fake).toEqual({ baseUrl: `${ai.baseUrl}/chat/completions`, model: "m-1", apiKey: "${vault:fake_api_key}" });
    expect(config.chat).toEqual({ provider: "fake" });
    expect(statSync(join(home, "config.yaml")).mode & 0o777).toBe(0o600);

    ai.enqueue(ai.stream(["hi"]));
    expect((await run(["ask", "hello"], venv)).code).toBe(0);
    expect(ai.chats()[0].headers.authorization).toBe("Bearer sk-piped-key-123456");
    expect(ai.chats()[0].body?.model).toBe("m-1");

    // A key on the command line works (the original's flag) but is warned about.
    const second = await run(["provider", "add", "other", "--api-url", "https://api.example.com/v1", "--api-key", "sk-argv-key-abcdef"], venv);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("visible to other users");
    expect(readFileSync(join(home, "config.yaml"), "utf8")).not.toContain("sk-argv-key");
    expect((await run(["provider", "add", "newone"], venv)).stderr).toContain("E_PROVIDER_URL");
    expect((await run(["provider", "add", "bad", "--api-url", "not a url"], venv)).code).toBe(2);

    const def = await run(["provider", "default", "other"], venv);
    expect(def.code, def.stderr).toBe(0);
    expect(yamlOf(join(home, "config.yaml")).chat).toEqual({ provider: "other" });
    expect((await run(["provider", "default", "othr"], venv)).stderr).toContain('did you mean "other"');

    const rm = await run(["provider", "rm", "other"], venv);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain("fake is now the default provider");
    const after = yamlOf(join(home, "config.yaml"));
    expect(Object.keys(after.providers)).toEqual(["fake"]);
    expect(after.chat).toEqual({ provider: "fake" });
    expect((await run(["provider", "rm", "other"], venv)).stderr).toContain("E_PROVIDER_UNKNOWN");
  }, 60_000);

  it("edits the original's own spelling in place, and its default_provider", async () => {
    const { home, env } = fresh();
    writeFileSync(join(home, "config.yaml"), `default_provider: a\nproviders:\n  a:\n    api_key: ""\n    api_url: "https://a.example/v1/chat/completions"\n    model: m\n  b:\n    api_url: "https://b.example/v1/chat/completions"\n    model: n\n`);
    expect((await run(["provider", "add", "a", "--api-url", "https://a2.example/v1"], env)).code).toBe(0);
    expect((await run(["provider", "default", "b"], env)).code).toBe(0);
    const config = yamlOf(join(home, "config.yaml")) as unknown as { default_provider: string; providers: Record<string, Record<string, string>>; chat?: unknown };
    expect(config.providers.a.api_url).toBe("https://a2.example/v1");
    expect(config.default_provider).toBe("b");
    expect(config.chat).toBeUndefined();
  }, 30_000);
});

describe("search", () => {
  it("is history search", async () => {
    const { env } = fresh();
    const aenv = { ...env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "x" };
    ai.enqueue(ai.stream(["the disk is full"]));
    expect((await run(["ask", "why is postgres down"], aenv)).code).toBe(0);
    const found = await run(["search", "postgres", "--json"], aenv);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as { entries: { input: string }[] }).entries.map((e) => e.input)).toEqual(["why is postgres down"]);
    expect((JSON.parse((await run(["search", "nginx", "--json"], aenv)).stdout) as { entries: unknown[] }).entries).toEqual([]);
  }, 30_000);
});

describe("export and import", () => {
  it("round-trips config, servers, workflows and policy without literal keys; --include-secrets needs the vault", async () => {
    const a = fresh();
    writeFileSync(join(a.home, "config.yaml"), "providers:\n  work:\n    baseUrl: https://api.example.com/v1\n    model: m\n    apiKey: sk-literal-secret-999\n  other:\n    baseUrl: https://o.example/v1\n    apiKey: ${vault:other_key}\nchat:\n  provider: work\n");
    writeFileSync(join(a.home, "workflows.yaml"), "workflows:\n  check:\n    steps:\n      - command: uptime\n");
    writeFileSync(join(a.home, "policy.yaml"), "rules: []\n");
    expect((await run(["servers", "add", "web1", "10.0.0.5", "--user", "deploy"], a.env)).code).toBe(0);
    const file = join(a.home, "bundle.json");
    const exp = await run(["export", file], a.env);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout).toContain("left out (API keys written in config.yaml): providers.work.apiKey");
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("sk-literal-secret-999");
    expect(text).toContain("${vault:other_key}");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await run(["export", file], a.env)).stderr).toContain("E_BUNDLE_EXISTS");
    const secrets = await run(["export", join(a.home, "s.json"), "--include-secrets"], a.env);
    expect(secrets.code).toBe(78);
    expect(secrets.stderr).toContain("E_BUNDLE_SECRETS");

    const b = fresh();
    const dry = await run(["import", file, "--dry-run"], b.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(join(b.home, "servers.yaml"))).toBe(false);
    const imp = await run(["import", file], b.env);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toContain("+ server web1");
    expect((await run(["servers", "list"], b.env)).stdout).toContain("deploy@10.0.0.5");
    expect(readFileSync(join(b.home, "workflows.yaml"), "utf8")).toBe(readFileSync(join(a.home, "workflows.yaml"), "utf8"));
    expect(readFileSync(join(b.home, "policy.yaml"), "utf8")).toBe("rules: []\n");
    expect(yamlOf(join(b.home, "config.yaml")).providers.work).toEqual({ baseUrl: "https://api.example.com/v1", model: "m" });
    expect((await run(["import", file], b.env)).stdout).toContain("Nothing to do");

    // A difference is not overwritten without --force; with it the old file is kept as .bak.
    writeFileSync(join(b.home, "workflows.yaml"), "workflows: {}\n");
    const conflict = await run(["import", file], b.env);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("E_BUNDLE_CONFLICT");
    expect(readFileSync(join(b.home, "workflows.yaml"), "utf8")).toBe("workflows: {}\n");
    const forced = await run(["import", file, "--force"], b.env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(b.home, "workflows.yaml.bak"), "utf8")).toBe("workflows: {}\n");
    expect(readFileSync(join(b.home, "workflows.yaml"), "utf8")).toContain("uptime");

    // With a vault, --include-secrets carries it, encrypted as it is.
    const venv = { ...a.env, OPSTERM_VAULT_PASSWORD: "bundle pass phrase" };
    expect((await run(["vault", "init", "--log-n", "15"], venv)).code).toBe(0);
    expect((await run(["vault", "set", "other_key"], venv, "sk-in-the-vault-42\n")).code).toBe(0);
    const withVault = join(a.home, "with-vault.json");
    expect((await run(["export", withVault, "--include-secrets"], venv)).code).toBe(0);
    expect(readFileSync(withVault, "utf8")).not.toContain("sk-in-the-vault-42");
    const c = fresh();
    expect((await run(["import", withVault], c.env)).code).toBe(0);
    const got = await run(["vault", "get", "other_key"], { ...c.env, OPSTERM_VAULT_PASSWORD: "bundle pass phrase" });
    expect(got.stdout).toBe("sk-in-the-vault-42");

    writeFileSync(join(c.home, "junk.json"), "{}");
    const junk = await run(["import", join(c.home, "junk.json")], c.env);
    expect(junk.code).toBe(65);
    expect(junk.stderr).toContain("E_BUNDLE_FORMAT");
  }, 90_000);
});

describe("the original's commands opsterm does not have", () => {
  it.each([
    ["web"],
    ["update"],
    ["reset"],
    ["web", "--port", "9000"],
  ])("opsterm %s … explains in one line, exits 2 and asks no model", async (...argv) => {
    const { env } = fresh();
    const r = await run(argv, { ...env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "x" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("E_RETIRED_COMMAND");
    expect(r.stderr).toContain(`the original OpsTerm's \`opsterm ${argv[0]}\``);
    expect(ai.chats()).toHaveLength(0);
  }, 30_000);
});
