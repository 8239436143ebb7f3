/**
 * The original OpsTerm's files → opsterm: the conversions `opsterm migrate` applies, on the files
 * the original itself writes (tests/fixtures/opsterm-original) and on the shapes its docs show.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { baseUrlOf, historyRecord, parseTimestamp, planConfig, planServers } from "../../../plugins/migrate/convert.ts";
import { parseLenient, readLegacyYaml, readOriginalHistory } from "../../../plugins/migrate/read.ts";

const FIXTURES = new URL("../../fixtures/opsterm-original/", import.meta.url).pathname;
const load = (dir: string, file: string) => YAML.parse(readFileSync(join(FIXTURES, dir, file), "utf8"));

describe("planConfig", () => {
  it("takes the provider `provider add` wrote, its default, and reports what opsterm does not use", () => {
    const plan = planConfig(load("init-provider-add", "config.yaml"), {});
    expect(plan.providers).toEqual([
      { name: "deepseek", entry: { baseUrl: "https://api.deepseek.com/v1", model: "deepseek-chat", temperature: 0.3, maxTokens: 1024 }, apiKey: "sk-test-deepseek-0123456789abcdef", from: "providers.deepseek" },
    ]);
    expect(plan.values).toEqual([{ key: "chat.provider", value: "deepseek", from: "default_provider" }]);
    expect(plan.unused.map((u) => u.key)).toEqual(["providers.default", "ai.response_style", "shell", "rtk"]);
    expect(plan.conflicts).toEqual([]);
  });

  it("keeps init's keyless placeholder when it is the default", () => {
    const plan = planConfig({ default_provider: "default", providers: { default: { api_key: "", api_url: "https://api.deepseek.com/v1/chat/completions", model: "deepseek-chat" }, other: { api_url: "http://x/v1", model: "m" } } }, {});
    expect(plan.providers.map((p) => p.name)).toEqual(["default", "other"]);
    expect(plan.providers[0].apiKey).toBeUndefined();
    expect(plan.values).toEqual([{ key: "chat.provider", value: "default", from: "default_provider" }]);
  });

  it("turns the documented ai: block into a provider named by its label, with the system prompt", () => {
    const plan = planConfig(load("documented", "config.yaml"), {});
    expect(plan.providers).toEqual([
      { name: "opencode-zen", entry: { baseUrl: "https://opencode.ai/zen/v1", model: "deepseek-v4-flash", temperature: 0.3, maxTokens: 1024 }, apiKey: "sk-zen-documented-0123456789", from: "ai" },
    ]);
    expect(plan.values).toEqual([
      { key: "chat.provider", value: "opencode-zen", from: "ai" },
      { key: "ai.system_prompt", value: "Answer in English. Assume Ubuntu servers.", from: "ai.system_prompt" },
    ]);
    expect(plan.unused.map((u) => u.key)).toEqual(["shell", "rtk"]);
  });

  it("fills in the original's own defaults for an ai: block with only a key", () => {
    const plan = planConfig({ ai: { api_key: "sk-only-a-key-123456" } }, {});
    expect(plan.providers[0]).toMatchObject({ name: "default", entry: { baseUrl: "https://api.deepseek.com/v1", model: "deepseek-chat" }, apiKey: "sk-only-a-key-123456" });
    expect(plan.notes.map((n) => n.key)).toContain("ai.api_url");
  });

  it("finds nothing to do against a config that already has it, and keeps a different one", () => {
    const old = load("init-provider-add", "config.yaml");
    const same = planConfig(old, { providers: { deepseek: { baseUrl: "https://api.deepseek.com/v1", model: "deepseek-chat", apiKey: "${vault:deepseek_api_key}" } }, chat: { provider: "deepseek" } });
    expect(same.providers).toEqual([]);
    expect(same.values).toEqual([]);
    expect(same.same).toEqual(["deepseek"]);
    const other = planConfig(old, { providers: { deepseek: { baseUrl: "https://proxy.example/v1", model: "deepseek-chat" } }, chat: { provider: "openai" } });
    expect(other.providers).toEqual([]);
    expect(other.conflicts.map((c) => c.key)).toEqual(["providers.deepseek", "chat.provider"]);
  });

  it("does not take a masked key from the original's export for a key", () => {
    const plan = planConfig({ providers: { openai: { api_url: "https://api.openai.com/v1/chat/completions", api_key: "__MASKED__:sk-abc...wxyz", model: "gpt-4o" } } }, {});
    expect(plan.providers[0].apiKey).toBeUndefined();
    expect(plan.notes[0].text).toContain("masked");
  });

  it("strips /chat/completions from the original's URLs", () => {
    expect(baseUrlOf("https://api.groq.com/openai/v1/chat/completions/")).toBe("https://api.groq.com/openai/v1");
    expect(baseUrlOf("http://localhost:11434/v1")).toBe("http://localhost:11434/v1");
  });
});

describe("planServers", () => {
  it("reads the map form save_servers writes, skips init's example, keeps the jump host", () => {
    const plan = planServers(load("init-provider-add", "servers.yaml"), {});
    expect(plan.add).toEqual([
      { id: "bastion", entry: { host: "198.51.100.5", user: "ubuntu", key: "~/.ssh/id_ed25519", desc: "Jump host" } },
      { id: "db-internal", entry: { host: "10.0.0.5", user: "admin", port: 2222, key: "~/.ssh/id_ed25519", desc: "Database via bastion", proxy: "bastion" } },
    ]);
    expect(plan.skipped).toEqual([{ key: "servers.vps-utama", text: expect.stringContaining("example") }]);
  });

  it("reads the README's list form: a quoted port, an inline jump host, root when no user", () => {
    const plan = planServers(load("documented", "servers.yaml"), {});
    expect(plan.add).toEqual([
      { id: "vps-utama-jump", entry: { host: "198.51.100.5", user: "ubuntu", desc: "jump host of vps-utama (from the original OpsTerm)" } },
      { id: "vps-utama", entry: { host: "203.0.113.10", user: "root", port: 2222, proxy: "vps-utama-jump" } },
      { id: "db-server", entry: { host: "10.0.0.5", user: "admin" } },
    ]);
    const noUser = planServers({ servers: { web: { host: "10.1.1.1", port: "22" } } }, {});
    expect(noUser.add).toEqual([{ id: "web", entry: { host: "10.1.1.1", user: "root" } }]);
  });

  it("renames ids opsterm cannot use, resolves a fuzzy proxy, drops a proxy to a skipped entry", () => {
    const plan = planServers({ servers: { "my server": { host: "10.0.0.1" }, inner: { host: "10.0.0.2", proxy: "my server" }, db: { host: "10.0.0.3", proxy: "gone" }, bad: { host: "10.0.0.4", port: "http" }, far: { host: "10.0.0.5", proxy: "bad" } } }, {});
    expect(plan.add.map((a) => [a.id, a.entry.proxy])).toEqual([["my-server", undefined], ["inner", "my-server"], ["db", undefined], ["far", undefined]]);
    expect(plan.skipped.map((s) => s.key)).toEqual(["servers.bad"]);
    expect(plan.notes.map((n) => n.text).join("\n")).toMatch(/"gone" is no server[\s\S]*"far": its jump host was left out[\s\S]*"my server" is "my-server"/);
  });

  it("reports ids opsterm already has, same or different", () => {
    const plan = planServers(load("init-provider-add", "servers.yaml"), { bastion: { host: "198.51.100.5", user: "ubuntu" }, "db-internal": { host: "10.9.9.9", user: "admin", port: 2222 } });
    expect(plan.add).toEqual([]);
    expect(plan.same).toEqual(["bastion"]);
    expect(plan.conflicts.map((c) => c.key)).toEqual(["servers.db-internal"]);
  });
});

describe("reading the original's files", () => {
  it("falls back to the original's own grammar for YAML its writer produced but YAML rejects", () => {
    // Its writer puts a value holding ":" in double quotes without escaping inner quotes.
    const text = 'workflows:\n  logs:\n    desc: "grep "error: disk" in syslog"\n    steps:\n      - command: "grep "error: disk" /var/log/syslog"\n        desc: Find it\n      - ssh: web\n        command: [ -f /x ] && echo yes\n';
    expect(() => YAML.parse(text)).toThrow();
    expect(parseLenient(text)).toEqual({
      workflows: { logs: { desc: 'grep "error: disk" in syslog', steps: [{ command: 'grep "error: disk" /var/log/syslog', desc: "Find it" }, { ssh: "web", command: "[ -f /x ] && echo yes" }] } },
    });
  });

  it("reads config.yaml as YAML when it is YAML", async () => {
    const read = await readLegacyYaml(join(FIXTURES, "init-provider-add", "config.yaml"));
    expect(read?.lenient).toBe(false);
    expect((read?.data as { default_provider: string }).default_provider).toBe("deepseek");
  });

  it("reads the rows of the original's history.db and maps its modes", async () => {
    const rows = await readOriginalHistory(join(FIXTURES, "init-provider-add", "history.db"));
    expect(rows.map((r) => r.mode)).toEqual(["ai", "ssh", "shell", "pipe", "workflow", "scp", "chat"]);
    const hash = (t: string) => String(t.length);
    const events = rows.map((r) => historyRecord(r, hash).event);
    expect(events.map((e) => e.mode)).toEqual(["ask", "session", "exec", "pipe", "workflow", "transfer", "ask"]);
    expect(events[0]).toMatchObject({ question: "how do I check disk usage", answer: "$ df -h", imported: "opsterm-original" });
    expect(events[1]).toMatchObject({ server: "bastion" });
    expect(events[2]).toMatchObject({ command: "df -h" });
    expect(historyRecord(rows[0], hash).ts).toBe(parseTimestamp(rows[0].timestamp));
    expect(new Date(parseTimestamp("2026-01-02 03:04:05")).getHours()).toBe(3);
  });
});

describe("planConfig against an opsterm that already has a provider", () => {
  it("does not switch opsterm's implicit default (its first provider) to the migrated one", () => {
    const plan = planConfig(load("init-provider-add", "config.yaml"), { providers: { openai: { apiKeyEnv: "OPENAI_API_KEY" } } });
    expect(plan.providers.map((p) => p.name)).toEqual(["deepseek"]);
    expect(plan.values).toEqual([]);
    expect(plan.conflicts).toEqual([{ key: "chat.provider", text: expect.stringContaining('opsterm already uses provider "openai"') }]);
  });
});
