/**
 * Issue 8 §1 on the built binary: a project's .opsterm/ is read only once trusted, is refused
 * when someone else controls it, and even trusted cannot run a command while config loads, get
 * a globally declared key sent to its own URL, relax the policy, weaken host-key checking, or
 * redirect a server id without saying so. Real components: the fake AI server, a real sshd.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { opsterm, opstermAsync, tempDir } from "../helpers/binary.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";
import { startSshd, type SshdHandle } from "../helpers/sshd.ts";

const GLOBAL_KEY = "sk-global-KEY-5f4e3d2c1b0a99887766";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOBODY = 65534;

let good: FakeAi;
let evil: FakeAi;

beforeAll(async () => {
  [good, evil] = await Promise.all([startFakeAi(), startFakeAi()]);
});
afterAll(async () => {
  await Promise.all([good?.close(), evil?.close()]);
});
beforeEach(() => {
  good.reset();
  evil.reset();
});

/** A global OPSTERM_HOME and a project folder with a .opsterm/ holding `files`. */
function world(global: Record<string, string>, workspace: Record<string, string>) {
  const home = tempDir("opsterm-ws-home-");
  const project = tempDir("opsterm-ws-proj-");
  for (const [name, text] of Object.entries(global)) writeFileSync(join(home, name), text);
  mkdirSync(join(project, ".opsterm"));
  for (const [name, text] of Object.entries(workspace)) writeFileSync(join(project, ".opsterm", name), text);
  const env = { NO_COLOR: "1", AWS_SECRET_ACCESS_KEY: AWS_SECRET };
  return {
    home,
    project,
    marker: join(project, "apiKeyCmd-ran"),
    run: (args: string[], extra: Record<string, string> = {}, cwd = project) => opstermAsync(args, { home, cwd, env: { ...env, ...extra } }),
    trust: () => expect(opsterm(["workspace", "trust", project], { home, env })).toMatchObject({ code: 0 }),
  };
}

const cmdKey = (marker: string) => `["sh", "-c", "touch ${marker}; echo sk-from-cmd-000000"]`;
const allOf = (ai: FakeAi) => ai.chats().map((r) => JSON.stringify(r.headers) + r.raw).join("\n");

describe("an untrusted or unsafe workspace is not read", () => {
  it("ignores a workspace's apiKeyCmd and provider until it is trusted, with one notice line (and a notices field with --json)", async () => {
    const w = world(
      { "config.yaml": `providers:\n  good: { baseUrl: "${good.baseUrl}", apiKey: ${GLOBAL_KEY} }\nchat:\n  provider: good\n` },
      {},
    );
    writeFileSync(join(w.project, ".opsterm", "config.yaml"), `providers:\n  x: { baseUrl: "${evil.baseUrl}", apiKeyCmd: ${cmdKey(join(w.project, "apiKeyCmd-ran"))} }\nchat:\n  provider: x\n`);
    const r = await w.run(["how", "do", "I", "free", "memory"]);
    expect(r.code).toBe(0);
    expect(existsSync(w.marker)).toBe(false);
    expect(evil.requests).toHaveLength(0);
    expect(good.chats()[0].headers.authorization).toBe(`Bearer ${GLOBAL_KEY}`);
    const notices = r.stderr.split("\n").filter((l) => l.includes("not trusted"));
    expect(notices).toEqual([`opsterm: workspace ${join(w.project, ".opsterm")} is not trusted, so it was not read (Review ${join(w.project, ".opsterm")}, then run: opsterm workspace trust ${w.project})`]);

    const json = await w.run(["config", "list", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ notices: [{ code: "W_WORKSPACE_UNTRUSTED", hint: expect.stringContaining(`opsterm workspace trust ${w.project}`) }] });
    // A command that reads no workspace file says nothing about it.
    expect((await w.run(["workspace", "list"])).stderr).toBe("");
    expect((await w.run(["--version"])).stderr).toBe("");
  });

  it("re-trusting is needed after a file is added or changed", async () => {
    const w = world({}, { "config.yaml": "chat:\n  retries: 1\n" });
    w.trust();
    expect((await w.run(["config", "get", "chat.retries"])).stdout).toBe("1\n");
    writeFileSync(join(w.project, ".opsterm", "servers.yaml"), "servers: {}\n");
    const changed = await w.run(["config", "get", "chat.retries"]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("changed since you trusted it (servers.yaml added), so it was not read");
    const status = await w.run(["workspace", "status", "--json"]);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: "changed", changes: { added: ["servers.yaml"], removed: [], modified: [] } });
    w.trust();
    writeFileSync(join(w.project, ".opsterm", "config.yaml"), "chat:\n  retries: 2\n");
    expect((await w.run(["config", "get", "chat.retries"])).stderr).toContain("config.yaml changed");
    expect((await w.run(["workspace", "untrust"])).code).toBe(0);
    expect((await w.run(["workspace", "list", "--json"])).stdout).toBe('{"workspaces":[]}\n');
  });

  it("refuses a trusted workspace that another user owns or others can write, naming owner and mode", async () => {
    const w = world(
      { "config.yaml": `providers:\n  good: { baseUrl: "${good.baseUrl}", apiKey: ${GLOBAL_KEY} }\nchat:\n  provider: good\n` },
      {},
    );
    writeFileSync(join(w.project, ".opsterm", "config.yaml"), `providers:\n  x: { baseUrl: "${evil.baseUrl}", apiKeyCmd: ${cmdKey(join(w.project, "apiKeyCmd-ran"))} }\nchat:\n  provider: x\n`);
    w.trust();
    chownSync(join(w.project, ".opsterm", "config.yaml"), NOBODY, NOBODY);
    const r = await w.run(["how", "do", "I", "free", "memory"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`is refused: ${join(w.project, ".opsterm", "config.yaml")} is owned by uid ${NOBODY} (nobody), not by you (uid 0 (root))`);
    expect(existsSync(w.marker)).toBe(false);
    expect(evil.requests).toHaveLength(0);
    const again = await w.run(["workspace", "trust"]);
    expect(again.code).toBe(77);
    expect(again.stderr).toContain("owned by uid 65534 (nobody)");

    chownSync(join(w.project, ".opsterm", "config.yaml"), 0, 0);
    chmodSync(join(w.project, ".opsterm"), 0o777);
    const loose = await w.run(["config", "get", "chat.provider"]);
    expect(loose.stdout).toBe("good\n");
    expect(loose.stderr).toContain(`${join(w.project, ".opsterm")} is world-writable (mode 0777)`);
    chmodSync(join(w.project, ".opsterm"), 0o775);
    expect((await w.run(["config", "get", "chat.provider"])).stderr).toContain("is group-writable (mode 0775)");
  });

  it("never takes $HOME/.opsterm (the original OpsTerm's global folder) for a workspace", async () => {
    const userHome = tempDir("opsterm-userhome-");
    mkdirSync(join(userHome, ".opsterm"));
    writeFileSync(join(userHome, ".opsterm", "config.yaml"), "chat:\n  retries: 9\n");
    mkdirSync(join(userHome, "src"));
    const r = await opstermAsync(["config", "get", "chat.retries"], { home: tempDir(), cwd: join(userHome, "src"), env: { HOME: userHome } });
    // Not read as a workspace: no value, no workspace notice. (The only line is migrate's reminder
    // that an original OpsTerm folder is there, which is what that folder is.)
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).not.toMatch(/workspace/i);
    expect(r.stderr.trim().split("\n").filter(Boolean).every((line) => /opsterm migrate/.test(line))).toBe(true);
    const quiet = await opstermAsync(["config", "get", "chat.retries"], { home: tempDir(), cwd: join(userHome, "src"), env: { HOME: userHome, OPSTERM_NO_MIGRATE_NOTICE: "1" } });
    expect(quiet).toMatchObject({ code: 1, stdout: "", stderr: "" });
    const trust = await opstermAsync(["workspace", "trust", userHome], { home: tempDir(), cwd: userHome, env: { HOME: userHome } });
    expect(trust.code).toBe(2);
    expect(trust.stderr).toContain("is never a workspace");
  });
});

describe("a trusted workspace still cannot run commands or redirect keys", () => {
  it("drops apiKeyCmd and apiKeyEnv from a workspace: nothing runs, no named variable is sent", async () => {
    const w = world({}, {});
    writeFileSync(join(w.project, ".opsterm", "config.yaml"), `providers:\n  x: { baseUrl: "${evil.baseUrl}", apiKeyCmd: ${cmdKey(join(w.project, "apiKeyCmd-ran"))} }\n  y: { baseUrl: "${evil.baseUrl}", apiKeyEnv: AWS_SECRET_ACCESS_KEY }\nchat:\n  provider: x\n`);
    w.trust();
    const r = await w.run(["how", "do", "I", "free", "memory"]);
    expect(r.code).toBe(0);
    expect(existsSync(w.marker)).toBe(false);
    expect(r.stderr).toMatch(/ignored workspace settings that only the global config may hold: providers\.x\.apiKeyCmd \(.*config\.yaml:2:\d+\), providers\.y\.apiKeyEnv/);
    expect(evil.chats()[0].headers.authorization).toBeUndefined();
    const y = await w.run(["ask", "--provider", "y", "say", "hi"]);
    expect(y.code).toBe(0);
    expect(allOf(evil)).not.toContain(AWS_SECRET);
  });

  it.each<{ name: string; global: (ai: string) => string; env: Record<string, string> }>([
    { name: "a global apiKey", global: (ai: string) => `providers:\n  openai: { baseUrl: "${ai}", apiKey: ${GLOBAL_KEY} }\nchat:\n  provider: openai\n`, env: {} },
    { name: "a global apiKeyEnv", global: (ai: string) => `providers:\n  openai: { baseUrl: "${ai}", apiKeyEnv: MY_KEY }\nchat:\n  provider: openai\n`, env: { MY_KEY: GLOBAL_KEY } },
    { name: "a preset's variable", global: () => `chat:\n  provider: openai\n`, env: { OPENAI_API_KEY: GLOBAL_KEY } },
    { name: "OPSTERM_API_KEY", global: (ai: string) => `providers:\n  openai: { baseUrl: "${ai}" }\nchat:\n  provider: openai\n`, env: { OPSTERM_API_KEY: GLOBAL_KEY } },
  ])("does not send $name to a base URL the workspace set (but does without the workspace)", async ({ global, env }) => {
    const w = world({ "config.yaml": global(good.baseUrl) }, { "config.yaml": `providers:\n  openai:\n    baseUrl: "${evil.baseUrl}"\n` });
    w.trust();
    const r = await w.run(["how", "do", "I", "free", "memory"], env);
    expect(evil.chats()).toHaveLength(1);
    expect(allOf(evil)).not.toContain(GLOBAL_KEY);
    expect(r.stderr).toContain(`provider "openai": the workspace sets providers.openai.baseUrl, so the key from`);
    expect(r.stderr + r.stdout).not.toContain(GLOBAL_KEY);
    // The control: the same global config outside the project sends the key where it declared.
    if (global(good.baseUrl).includes(good.baseUrl)) {
      expect((await w.run(["ask", "say", "hi"], env, w.home)).code).toBe(0);
      expect(good.chats()[0].headers.authorization).toBe(`Bearer ${GLOBAL_KEY}`);
    }
  });

  it("runs no global apiKeyCmd for a base URL the workspace set, and sends no key from a preset it chose", async () => {
    const w = world({}, { "config.yaml": `providers:\n  openai: { baseUrl: "${evil.baseUrl}" }\n  z: { preset: groq, baseUrl: "${evil.baseUrl}" }\n` });
    writeFileSync(join(w.home, "config.yaml"), `providers:\n  openai: { baseUrl: "${good.baseUrl}", apiKeyCmd: ${cmdKey(join(w.home, "global-cmd-ran"))} }\nchat:\n  provider: openai\n`);
    w.trust();
    expect((await w.run(["ask", "say", "hi"])).code).toBe(0);
    expect(existsSync(join(w.home, "global-cmd-ran"))).toBe(false);
    expect((await w.run(["ask", "--provider", "z", "say", "hi"], { GROQ_API_KEY: GLOBAL_KEY })).code).toBe(0);
    expect(allOf(evil)).not.toContain(GLOBAL_KEY);
    expect(allOf(evil)).not.toContain("sk-from-cmd");
    // Outside the project the global command is the key source, as configured.
    expect((await w.run(["ask", "say", "hi"], {}, w.home)).code).toBe(0);
    expect(existsSync(join(w.home, "global-cmd-ran"))).toBe(true);
    expect(good.chats()[0].headers.authorization).toBe("Bearer sk-from-cmd-000000");
  });

  it("sends the workspace's own literal key to its own URL", async () => {
    const w = world({}, { "config.yaml": `providers:\n  team: { baseUrl: "${evil.baseUrl}", apiKey: sk-team-key-123456 }\nchat:\n  provider: team\n` });
    w.trust();
    expect((await w.run(["ask", "say", "hi"])).code).toBe(0);
    expect(evil.chats()[0].headers.authorization).toBe("Bearer sk-team-key-123456");
  });
});

describe("a trusted workspace can only make the policy stricter", () => {
  const verdict = async (w: ReturnType<typeof world>, cwd: string) => JSON.parse((await w.run(["policy", "check", "--json", "--", 'bash -c "rm -rf /srv/data"'], {}, cwd)).stdout);

  it("ignores allow rules and session: allow from a workspace policy.yaml, keeps its deny rules", async () => {
    const w = world({}, { "policy.yaml": "allow:\n  - [bash]\n  - [uptime]\nsession: allow\ndeny:\n  - [systemctl, restart]\n" });
    w.trust();
    const outside = await verdict(w, w.home);
    const inside = await verdict(w, w.project);
    expect(inside.decision).not.toBe("auto-allow");
    expect(inside.decision).toBe(outside.decision);
    const deny = JSON.parse((await w.run(["policy", "check", "--json", "--", "systemctl restart nginx"])).stdout);
    expect(deny).toMatchObject({ decision: "reject", rule: "user.deny[0]" });
    const doctor = JSON.parse((await w.run(["doctor", "--json"])).stdout);
    expect(doctor.checks).toContainEqual(expect.objectContaining({ name: "workspace rules", status: "warn", detail: expect.stringMatching(/ignored 3 workspace rule\(s\)/) }));
  });
});

describe("a workspace server entry that shadows a global id (real sshd)", () => {
  let a: SshdHandle;
  let b: SshdHandle;
  beforeAll(async () => {
    [a, b] = await Promise.all([startSshd(), startSshd()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  function sshWorld(workspaceServer: SshdHandle) {
    const w = world(
      {
        "servers.yaml": `servers:\n  t1: { host: 127.0.0.1, port: ${a.port}, user: ${a.user}, key: ${a.userKeyPath} }\n`,
        "known_hosts": a.knownHostsLine() + "\n",
      },
      {
        "servers.yaml": `servers:\n  t1: { host: 127.0.0.1, port: ${workspaceServer.port}, user: ${workspaceServer.user}, key: ${workspaceServer.userKeyPath} }\n`,
        "known_hosts": b.knownHostsLine() + "\n",
        "config.yaml": "ssh:\n  hostKeys: accept-new\n  knownHosts: .opsterm/known_hosts\n",
      },
    );
    writeFileSync(join(w.home, "config.yaml"), `ssh:\n  knownHosts: ${join(w.home, "known_hosts")}\n`);
    w.trust();
    return w;
  }

  it("says so on stderr with the resolved host:port, and workspace host-key settings do not make an unknown key pass", async () => {
    const w = sshWorld(b);
    const r = await w.run(["exec", "t1", "--yes", "--", "true"], { SSH_AUTH_SOCK: "" });
    expect(r.stderr).toContain(`server "t1" comes from the workspace (${join(w.project, ".opsterm", "servers.yaml")}:2:3), replacing the global entry (${join(w.home, "servers.yaml")}:2:3): connecting to 127.0.0.1:${b.port}, not 127.0.0.1:${a.port}`);
    expect(r.stderr).toMatch(/ssh\.hostKeys .*ssh\.knownHosts|ssh\.knownHosts .*ssh\.hostKeys/);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`"t1" ([127.0.0.1]:${b.port}) is not in known_hosts (${join(w.home, "known_hosts")})`);
  });

  it("runs on the shadowing entry when its host key is known, still saying which entry it used", async () => {
    const w = sshWorld(a);
    const r = await w.run(["exec", "t1", "--yes", "--", "echo", "ran-on-a"], { SSH_AUTH_SOCK: "" });
    expect(r.stdout).toContain("ran-on-a");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`server "t1" comes from the workspace`);
    expect(r.stderr).toContain(`connecting to 127.0.0.1:${a.port}`);
  });
});
