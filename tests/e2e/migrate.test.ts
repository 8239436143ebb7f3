/**
 * Acceptance for issue 15's migration, on the built binary with the original OpsTerm's own files
 * (tests/fixtures/opsterm-original): after `opsterm migrate`, `ask` reaches the migrated provider,
 * `servers list` shows the servers, history shows the old entries, and workflows.yaml is where
 * the workflow plugin reads it. The old folder is never written; a second run has nothing to do.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { baseEnv, opstermAsync, tempDir } from "../helpers/binary.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";

const FIXTURES = new URL("../fixtures/opsterm-original/", import.meta.url).pathname;

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => ai.reset());

const run = (args: string[], env: Record<string, string>) => opstermAsync(args, { home: env.HOME, env, clean: true });

/** A home with the original's folder at `sub` (the fixture, its provider pointed at the fake AI server). */
function homeWith(fixture: string, sub: string): { home: string; old: string; env: Record<string, string> } {
  const home = tempDir("opsterm-migrate-");
  const old = join(home, sub);
  mkdirSync(old, { recursive: true, mode: 0o700 });
  cpSync(join(FIXTURES, fixture), old, { recursive: true });
  for (const f of ["config.yaml"]) {
    const path = join(old, f);
    if (!existsSync(path)) continue;
    // Only the provider in use moves to the fake server: init's keyless "default" keeps DeepSeek's URL.
    const text = readFileSync(path, "utf8")
      .replace(/(\n  deepseek:\n(?:    .*\n)*?    api_url: )"[^"]*"/, `$1"${ai.baseUrl}/chat/completions"`)
      .replaceAll("https://opencode.ai/zen/v1/chat/completions", `${ai.baseUrl}/chat/completions`);
    writeFileSync(path, text);
  }
  // opsterm's own files go elsewhere: OPSTERM_HOME is a sibling of the old folder.
  const env = { ...baseEnv(home), OPSTERM_HOME: join(home, "opsterm-home"), NO_COLOR: "1" };
  return { home, old, env };
}

/** Every file's bytes and mode, to prove the old folder is left as it was. */
function snapshot(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((f) => `${f} ${statSync(join(dir, f)).mode.toString(8)} ${createHash("sha256").update(readFileSync(join(dir, f))).digest("hex")}`)
    .join("\n");
}

describe("opsterm migrate from ~/.opsterm as the original's init and provider add left it", () => {
  it("brings the provider, servers, workflows and history over; ask reaches the provider; a second run has nothing to do", async () => {
    const { old, env } = homeWith("init-provider-add", ".opsterm");
    const before = snapshot(old);
    const configDir = env.OPSTERM_HOME;

    // The reminder: once, on stderr, then not again the same day; doctor says it too.
    const first = await run(["servers", "list"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`found the original OpsTerm's settings in ${old}; "opsterm migrate"`);
    expect((await run(["servers", "list"], env)).stderr).not.toContain("original OpsTerm");
    const doctor = await run(["doctor", "--json"], env);
    expect(doctor.stdout).toContain("has not been migrated");

    const dry = await run(["migrate", "--dry-run"], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("Dry run: nothing is written");
    expect(dry.stdout).toContain("+ provider deepseek");
    expect(existsSync(join(configDir, "config.yaml"))).toBe(false);
    expect(existsSync(join(configDir, "servers.yaml"))).toBe(false);

    const done = await run(["migrate"], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/\+ provider deepseek: http:\/\/127\.0\.0\.1:\d+\/v1, deepseek-chat; key in config\.yaml \(0600\)/);
    expect(done.stdout).toContain("+ chat.provider = \"deepseek\"");
    expect(done.stdout).toContain("not used: providers.default: the placeholder");
    expect(done.stdout).toContain("not used: shell:");
    expect(done.stdout).toContain("not used: rtk:");
    expect(done.stdout).toContain("skipped servers.vps-utama");
    expect(done.stdout).toContain("+ 7 entries imported");
    expect(statSync(join(configDir, "config.yaml")).mode & 0o777).toBe(0o600);

    // ask reaches the migrated provider, with its key and model.
    ai.enqueue(ai.stream(["Use ", "df -h."]));
    const ask = await run(["ask", "how full is the disk"], env);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ask.stdout).toContain("Use df -h.");
    expect(ai.chats()).toHaveLength(1);
    expect(ai.chats()[0].headers.authorization).toBe("Bearer sk-test-deepseek-0123456789abcdef");
    expect(ai.chats()[0].body?.model).toBe("deepseek-chat");

    const servers = await run(["servers", "list", "--json"], env);
    expect(servers.code, servers.stderr).toBe(0);
    const list = servers.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; host: string; port: number; user: string; via: string[] });
    expect(list.map((s) => [s.id, s.user, s.host, s.port, s.via])).toEqual([
      ["bastion", "ubuntu", "198.51.100.5", 22, []],
      ["db-internal", "admin", "10.0.0.5", 2222, ["bastion"]],
    ]);

    const history = await run(["history", "--json", "--limit", "50"], env);
    expect(history.code, history.stderr).toBe(0);
    const inputs = (JSON.parse(history.stdout) as { entries: { input: string; mode: string }[] }).entries.map((e) => e.input);
    expect(inputs).toEqual(expect.arrayContaining(["how do I check disk usage", "ssh bastion", "df -h", "run cek-server", "what is load average", "how full is the disk"]));
    const search = await run(["search", "load average"], env);
    expect(search.stdout).toContain("what is load average");

    // workflows.yaml where the workflow plugin reads it, byte for byte.
    expect(readFileSync(join(configDir, "workflows.yaml"), "utf8")).toBe(readFileSync(join(old, "workflows.yaml"), "utf8"));

    const again = await run(["migrate"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing to do");
    const twice = await run(["history", "--json", "--limit", "50"], env);
    expect((JSON.parse(twice.stdout) as { entries: unknown[] }).entries).toHaveLength(inputs.length);
    expect((await run(["doctor", "--json"], env)).stdout).toContain("migrated");
    expect((await run(["servers", "list"], env)).stderr).not.toContain("original OpsTerm");

    expect(snapshot(old)).toBe(before);
  }, 120_000);

  it("puts the API key into the vault when there is one, and ask still authenticates with it", async () => {
    const { env } = homeWith("init-provider-add", ".opsterm");
    const venv = { ...env, OPSTERM_VAULT_PASSWORD: "correct horse battery staple" };
    expect((await run(["vault", "init", "--log-n", "15"], venv)).code).toBe(0);
    const done = await run(["migrate", "--json"], venv);
    expect(done.code, done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { config: { providers: { name: string; key: { where: string; vaultName: string } }[] } };
    expect(report.config.providers[0]).toMatchObject({ name: "deepseek", key: { where: "vault", vaultName: "deepseek_api_key" } });
    const config = readFileSync(join(env.OPSTERM_HOME, "config.yaml"), "utf8");
    expect(config).toContain("apiKey: ${vault:deepseek_api_key}");
    expect(config).not.toContain("sk-test-deepseek");
    ai.enqueue(ai.stream(["pong"]));
    const ask = await run(["ask", "ping"], venv);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ai.chats()[0].headers.authorization).toBe("Bearer sk-test-deepseek-0123456789abcdef");
    // Without the passphrase nothing is half-migrated: the vault refuses before any file is written.
    const { env: other } = homeWith("init-provider-add", ".opsterm");
    expect((await run(["vault", "init", "--log-n", "15"], { ...other, OPSTERM_VAULT_PASSWORD: "pw-one-two-three" })).code).toBe(0);
    const refused = await run(["migrate"], other);
    expect(refused.code).not.toBe(0);
    expect(existsSync(join(other.OPSTERM_HOME, "config.yaml"))).toBe(false);
    expect(existsSync(join(other.OPSTERM_HOME, "servers.yaml"))).toBe(false);
  }, 120_000);
});

describe("the documented shapes, from OPSTERM_DIR, --from and the older ~/.ai-workflows", () => {
  it("takes the ai: block, system_prompt, list-form servers with a quoted port and an inline jump host", async () => {
    const { home, old, env } = homeWith("documented", "custom-dir");
    const denv = { ...env, OPSTERM_DIR: old };
    const done = await run(["migrate"], denv);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain("Migrating from ~/custom-dir (OPSTERM_DIR)");
    expect(done.stdout).toContain("+ provider opencode-zen");
    const servers = (await run(["servers", "list", "--json"], denv)).stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; port: number; user: string; via: string[] });
    expect(servers.map((s) => [s.id, s.user, s.port, s.via])).toEqual([
      ["db-server", "admin", 22, []],
      ["vps-utama", "root", 2222, ["vps-utama-jump"]],
      ["vps-utama-jump", "ubuntu", 22, []],
    ]);
    ai.enqueue(ai.stream(["ok"]));
    const ask = await run(["ask", "hello"], denv);
    expect(ask.code, ask.stderr).toBe(0);
    const chat = ai.chats()[0];
    expect(chat.headers.authorization).toBe("Bearer sk-zen-documented-0123456789");
    expect(chat.body?.model).toBe("deepseek-v4-flash");
    expect(chat.body?.messages?.[0]).toMatchObject({ role: "system", content: expect.stringContaining("Answer in English. Assume Ubuntu servers.") });
    expect(readFileSync(join(env.OPSTERM_HOME, "workflows.yaml"), "utf8")).toContain("name: check-all");

    // --from and ~/.ai-workflows
    const legacy = homeWith("documented", ".ai-workflows");
    const dry = await run(["migrate", "--dry-run", "--json"], legacy.env);
    expect(JSON.parse(dry.stdout)).toMatchObject({ found: true, via: "~/.ai-workflows", dryRun: true, changed: true });
    const from = await run(["migrate", "--from", join(home, "custom-dir"), "--dry-run"], legacy.env);
    expect(from.stdout).toContain("(--from)");
    const missing = await run(["migrate", "--from", join(home, "nowhere")], legacy.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("E_MIGRATE_SOURCE");
  }, 120_000);

  it("reads the original's config.yaml as opsterm's own global config, unchanged", async () => {
    const { old, env } = homeWith("init-provider-add", "x");
    mkdirSync(env.OPSTERM_HOME, { recursive: true });
    cpSync(join(old, "config.yaml"), join(env.OPSTERM_HOME, "config.yaml"));
    const list = await run(["config", "list"], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("default_provider");
    ai.enqueue(ai.stream(["fine"]));
    const ask = await run(["ask", "are you there"], env);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ai.chats()[0].headers.authorization).toBe("Bearer sk-test-deepseek-0123456789abcdef");
    expect(ai.chats()[0].body?.max_tokens ?? ai.chats()[0].body?.max_completion_tokens).toBe(1024);
  }, 60_000);
});
