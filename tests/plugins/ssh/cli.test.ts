/**
 * `opsterm exec|servers|ssh` end to end: spawned CLI, real sshd on loopback (a bastion and an inner
 * host reachable through it), real policy and audit plugins, marker files to prove nothing ran.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, keygen, runOpsterm, startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let bastion: SshdHandle;
let inner: SshdHandle;
let scratch: string;

beforeAll(async () => {
  [bastion, inner] = await Promise.all([startSshd(), startSshd()]);
  // inner accepts bastion's user key too, so one key logs in on both hops.
  writeFileSync(join(inner.dir, "authorized_keys"), readFileSync(`${bastion.userKeyPath}.pub`));
  scratch = mkdtempSync(join(tmpdir(), "opsterm-exec-"));
});
afterAll(async () => {
  await Promise.all([bastion?.stop(), inner?.stop()]);
});

function home(extra: { knownHosts?: string[]; servers?: Record<string, Record<string, unknown>> } = {}) {
  return writeOpstermHome({
    servers: extra.servers ?? {
      bastion: bastion.server({ tags: ["edge"] }),
      inner: { ...inner.server({ tags: ["web"] }), key: bastion.userKeyPath, proxy: "bastion" },
    },
    knownHosts: extra.knownHosts ?? [bastion.knownHostsLine(), inner.knownHostsLine()],
  });
}
const marker = (name: string) => join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);

describe("opsterm exec", () => {
  it("runs through a jump host and passes the remote exit code through", async () => {
    const h = home();
    const ok = await runOpsterm(["exec", "inner", "--", "uname", "-n"], h.env);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().length).toBeGreaterThan(0);
    const failing = await runOpsterm(["exec", "inner", "--yes", "--", "sh", "-c", "'echo out; echo err >&2; exit 3'"], h.env);
    expect(failing).toMatchObject({ code: 3, stdout: "out\n" });
    expect(failing.stderr).toContain("err\n");
    // Intent and result of both actions are in the audit log.
    const audit = await runOpsterm(["audit", "log", "--json"], h.env);
    expect(audit.stdout).toContain("uname -n");
  });

  it("denies an approval-required command without a TTY (exit 77) and runs nothing", async () => {
    const m = marker("approval");
    const r = await runOpsterm(["exec", "bastion", "--", "touch", m], h0().env);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/approval/i);
    expect(existsSync(m)).toBe(false);
  });

  it("never runs a rejected command, not even with --yes (exit 77)", async () => {
    const m = marker("reject");
    const r = await runOpsterm(["exec", "bastion", "--yes", "--", `rm -rf / ; touch ${m}`], h0().env);
    expect(r.code).toBe(77);
    expect(existsSync(m)).toBe(false);
  });

  it("refuses a changed host key of the jump host and runs nothing", async () => {
    const other = keygen(join(scratch, `k-${Date.now()}`));
    const h = home({ knownHosts: [`[127.0.0.1]:${bastion.port} ${other}`, inner.knownHostsLine()] });
    const m = marker("changed");
    const r = await runOpsterm(["exec", "inner", "--yes", "--", "touch", m], h.env);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/HOST KEY .*HAS CHANGED/);
    expect(existsSync(m)).toBe(false);
  });

  it("refuses an unknown host without a TTY and records nothing", async () => {
    const h = home({ knownHosts: [] });
    const m = marker("unknown");
    const r = await runOpsterm(["exec", "bastion", "--yes", "--", "touch", m], h.env);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/not in known_hosts/);
    expect(r.stderr).toMatch(/SHA256:/);
    expect(existsSync(m)).toBe(false);
    expect(readFileSync(h.knownHostsPath, "utf8").trim()).toBe("");
  });

  it("runs nothing when the audit log cannot be written (fail closed, exit 74)", async () => {
    const h = home();
    // The audit directory cannot be created: a file is in the way (chmod does not stop root).
    writeFileSync(join(h.home, "audit"), "not a directory");
    const m = marker("audit");
    const r = await runOpsterm(["exec", "bastion", "--yes", "--", "touch", m], h.env);
    expect(r.code).toBe(74);
    expect(existsSync(m)).toBe(false);
  });

  it("fans out with one unreachable host failing within its deadline", async () => {
    const port = await freePort();
    const silent: Server = createServer(() => {}).listen(port, "127.0.0.1");
    try {
      const h = home({
        servers: {
          a: bastion.server({ tags: ["all"] }),
          b: { ...inner.server({ tags: ["all"] }), key: bastion.userKeyPath },
          c: { ...inner.server({ tags: ["all"] }), key: bastion.userKeyPath, proxy: "a" },
          dead: { host: "127.0.0.1", port, key: bastion.userKeyPath, tags: ["all"] },
        },
      });
      const started = Date.now();
      const r = await runOpsterm(["exec", "@all", "--json", "--connect-timeout", "1.5", "--", "uname", "-n"], h.env);
      const elapsed = Date.now() - started;
      expect(r.code).toBe(1);
      const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.server).sort()).toEqual(["a", "b", "c", "dead"]);
      for (const l of lines.filter((x) => x.server !== "dead")) expect(l).toMatchObject({ exitCode: 0, status: 0 });
      expect(lines.find((l) => l.server === "dead")).toMatchObject({ exitCode: null, status: 69, error: { code: "E_SSH_TIMEOUT" } });
      expect(elapsed).toBeLessThan(8000);

      const text = await runOpsterm(["exec", "a,b,c", "--", "uname", "-n"], h.env);
      expect(text.code).toBe(0);
      // Identical output from three hosts is printed once, under all three names.
      expect(text.stdout).toMatch(/^a,b,c \(exit 0\)$/m);
    } finally {
      silent.close();
    }
  });
});

let shared: ReturnType<typeof home> | undefined;
function h0() {
  shared ??= home();
  return shared;
}

describe("opsterm servers", () => {
  it("import-ssh-config reads Host blocks, follows Include and skips wildcard-only blocks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opsterm-sshcfg-"));
    mkdirSync(join(dir, "conf.d"));
    writeFileSync(join(dir, "conf.d", "extra.conf"), "Host db1\n  HostName 10.0.0.9\n  Port 2222\n  ProxyJump bastion\n");
    writeFileSync(
      join(dir, "config"),
      [`Include ${join(dir, "conf.d", "*.conf")}`, "Host bastion", "  HostName 203.0.113.7", "  User ops", "  IdentityFile ~/.ssh/id_ed25519", "Host web1 web2", "  HostName %h.internal", "  ProxyJump bastion", "Host *", "  User deploy", ""].join("\n"),
    );
    const h = writeOpstermHome({});
    const r = await runOpsterm(["servers", "import-ssh-config", "--file", join(dir, "config")], h.env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const list = await runOpsterm(["servers", "list", "--json"], h.env);
    const servers = Object.fromEntries(list.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((s) => [s.id, s]));
    expect(Object.keys(servers).sort()).toEqual(["bastion", "db1", "web1", "web2"]);
    expect(servers.bastion).toMatchObject({ host: "203.0.113.7", user: "ops", port: 22, key: join(h.env.HOME, ".ssh/id_ed25519") });
    expect(servers.web1).toMatchObject({ host: "web1.internal", user: "deploy", via: ["bastion"] });
    expect(servers.db1).toMatchObject({ host: "10.0.0.9", port: 2222, via: ["bastion"] });
    // Running it again changes nothing and says what it skipped.
    const again = await runOpsterm(["servers", "import-ssh-config", "--file", join(dir, "config")], h.env);
    expect(again.stdout).toMatch(/Skipped 4/);
  });

  it("add, list with scope, rm; a bad proxy is refused before anything is written", async () => {
    const h = writeOpstermHome({});
    expect((await runOpsterm(["servers", "add", "b1", "10.0.0.1", "--user", "ops", "--tags", "edge"], h.env)).code).toBe(0);
    const bad = await runOpsterm(["servers", "add", "w1", "10.0.0.2", "--proxy", "b2"], h.env);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/unknown server "b2" \(did you mean "b1"\?\)/);
    expect(readFileSync(join(h.home, "servers.yaml"), "utf8")).not.toContain("w1");
    // An id or host that loading would refuse is refused before it is written, not on the next read.
    const badId = await runOpsterm(["servers", "add", "w 1", "10.0.0.2"], h.env);
    expect(badId.code).toBe(78);
    expect(badId.stderr).toMatch(/invalid id "w 1"/);
    expect(readFileSync(join(h.home, "servers.yaml"), "utf8")).not.toContain("w 1");
    const list = await runOpsterm(["servers", "list"], h.env);
    expect(list.stdout).toMatch(/b1\s+ops@10\.0\.0\.1\s+@edge\s+global/);
    expect((await runOpsterm(["servers", "rm", "b1"], h.env)).code).toBe(0);
    expect(readFileSync(join(h.home, "servers.yaml"), "utf8")).not.toContain("b1");
  });
});
