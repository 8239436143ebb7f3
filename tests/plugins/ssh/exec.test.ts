/**
 * More of `opsterm exec` end to end against a real sshd: hashed known_hosts written by
 * ssh-keygen -H, `ssh.hostKeys: accept-new`, lost connections and deadlines as "exit status
 * unknown" (255, never 0), and the per-host output cap of a fan-out with the rest streamed.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensshHashesKnownHosts } from "../../../plugins/ssh/settings.ts";
import { freePort, runOpsterm, startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const REPO = new URL("../../../", import.meta.url).pathname;
const jsonLines = (text: string) => text.trim().split("\n").map((l) => JSON.parse(l));

describe("host keys", () => {
  it("accepts a hashed |1| entry written by ssh-keygen -H", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      execFileSync("ssh-keygen", ["-H", "-f", h.knownHostsPath], { stdio: "ignore" });
      const hashed = readFileSync(h.knownHostsPath, "utf8");
      expect(hashed).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
      expect(hashed).not.toContain("127.0.0.1");
      const r = await runOpsterm(["exec", "box", "--", "uname", "-n"], h.env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      h.cleanup();
    }
  });

  it("records an unknown host with ssh.hostKeys: accept-new, and still refuses a changed one", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [], config: { ssh: { hostKeys: "accept-new", hashKnownHosts: false } } });
    try {
      const r = await runOpsterm(["exec", "box", "--", "uname", "-n"], h.env);
      expect(r.code).toBe(0);
      expect(readFileSync(h.knownHostsPath, "utf8").trim()).toBe(sshd.knownHostsLine());
      // A different key under the same name is a change, not a new host: refused even with accept-new.
      writeFileSync(h.knownHostsPath, `[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.userKeyPath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ")}\n`);
      const changed = await runOpsterm(["exec", "box", "--", "uname", "-n"], h.env);
      expect(changed.code).toBe(77);
      expect(changed.stderr).toMatch(/HAS CHANGED/);
    } finally {
      h.cleanup();
    }
  });
});

describe("one host", () => {
  it("streams output as it comes (not at the end) and exits with the remote code", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const child = spawn(join(REPO, "node_modules/.bin/tsx"), [join(REPO, "src/main.ts"), "exec", "box", "--yes", "--", "echo first; sleep 1.5; echo second >&2; exit 4"], { cwd: REPO, env: h.env, stdio: ["ignore", "pipe", "pipe"] });
      let firstAt = 0;
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (c: Buffer) => {
        firstAt ||= Date.now();
        stdout += c.toString();
      });
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      const endAt = Date.now();
      expect(code).toBe(4);
      expect(stdout).toBe("first\n");
      expect(stderr).toBe("second\n");
      expect(endAt - firstAt).toBeGreaterThan(1000);
    } finally {
      h.cleanup();
    }
  });
});

describe("hashed known_hosts entries", () => {
  it("records a new host hashed with ssh.hashKnownHosts: true, and the system ssh accepts the entry", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [], config: { ssh: { hostKeys: "accept-new", hashKnownHosts: true } } });
    try {
      expect((await runOpsterm(["exec", "box", "--", "uname", "-n"], h.env)).code).toBe(0);
      const text = readFileSync(h.knownHostsPath, "utf8");
      expect(text.trim()).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 [A-Za-z0-9+/=]+$/);
      expect(text).not.toContain("127.0.0.1");
      // OpenSSH finds it: ssh-keygen -F looks the name up in the hashed file.
      const found = execFileSync("ssh-keygen", ["-F", `[127.0.0.1]:${sshd.port}`, "-f", h.knownHostsPath], { encoding: "utf8" });
      expect(found).toContain(sshd.hostKeyPub.split(" ")[1]);
      // And opsterm itself on the next run.
      const again = await runOpsterm(["exec", "box", "--", "uname", "-n"], { ...h.env });
      expect(again.code).toBe(0);
      expect(readFileSync(h.knownHostsPath, "utf8")).toBe(text);
    } finally {
      h.cleanup();
    }
  });

  it("follows HashKnownHosts from ~/.ssh/config when ssh.hashKnownHosts is not set", () => {
    const home = mkdtempSync(join(tmpdir(), "opsterm-hkh-"));
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh", "config"), "Host *\n  HashKnownHosts no\n");
    expect(opensshHashesKnownHosts(home)).toBe(false);
    writeFileSync(join(home, ".ssh", "config"), "# comment\nHost *\n    HashKnownHosts=yes\n");
    expect(opensshHashesKnownHosts(home)).toBe(true);
  });
});

describe("nothing sent", () => {
  it("an unreachable host exits 69 (it never ran), with the reason and a hint", async () => {
    const port = await freePort();
    const h = writeOpstermHome({ servers: { gone: { ...sshd.server(), port } }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const r = await runOpsterm(["exec", "gone", "--", "uname", "-n"], h.env);
      expect(r.code).toBe(69);
      expect(r.stderr).toMatch(/Cannot connect to "gone" at 127\.0\.0\.1:\d+: connection refused/);
      expect(r.stderr).toMatch(/hint: Check that the host is up/);
    } finally {
      h.cleanup();
    }
  });

  it("refuses to connect when known_hosts cannot be read (exit 74)", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() } });
    try {
      mkdirSync(h.knownHostsPath); // a directory: unreadable as a file, even for root
      const r = await runOpsterm(["exec", "box", "--", "uname", "-n"], h.env);
      expect(r.code).toBe(74);
      expect(r.stderr).toMatch(/Cannot read known_hosts file .*refusing to connect without host-key verification/);
    } finally {
      h.cleanup();
    }
  });
});

describe("exit status unknown", () => {
  it("a connection lost mid-command exits 255 with the reason, never 0", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      // The command kills the sshd process serving its own session.
      const r = await runOpsterm(["exec", "box", "--yes", "--json", "--", "kill -9 $PPID; sleep 5"], h.env);
      expect(r.code).toBe(255);
      expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: null, status: 255, attempted: true, error: { code: "E_SSH_LOST" } });
      const records = readFileSync(`${h.home}/audit/audit.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(records.at(-1)).toMatchObject({ phase: "result", exitCode: null });
    } finally {
      h.cleanup();
    }
  });

  it("--timeout ends the command at its deadline with exit 255", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const started = Date.now();
      const r = await runOpsterm(["exec", "box", "--yes", "--timeout", "0.5", "--", "sleep", "30"], h.env, { timeoutMs: 40_000 });
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/did not finish within 0\.5 s: exit status unknown/);
      // The action (connect + run) ended at the deadline, far short of the 30 s the command wanted;
      // measured by the gate, so a loaded machine's slow process start-up does not count.
      const result = readFileSync(`${h.home}/audit/audit.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l)).at(-1);
      expect(result).toMatchObject({ phase: "result", exitCode: null });
      expect(result.durationMs).toBeLessThan(10_000);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      h.cleanup();
    }
  });
});

describe("fan-out output cap", () => {
  it("keeps the first --max-output bytes per host for the summary, streams the rest as 'host: line', and says so", async () => {
    const h = writeOpstermHome({ servers: { a: sshd.server(), b: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const cmd = ["exec", "a,b", "--yes", "--max-output", "12", "--", "seq", "1", "2000"];
      const r = await runOpsterm(cmd, h.env);
      expect(r.code).toBe(0);
      // 12 bytes kept: "1\n2\n3\n4\n5\n6\n"; the rest arrives as prefixed lines, every one of them.
      expect(r.stdout).toMatch(/^a,b \(exit 0\) \(output truncated: first 12 B per stream kept here/m);
      expect(r.stdout).toContain("----------------\n1\n2\n3\n4\n5\n6\n");
      for (const host of ["a", "b"]) {
        const streamed = r.stdout.split("\n").filter((l) => l.startsWith(`${host}: `)).map((l) => Number(l.slice(host.length + 2)));
        expect(streamed).toEqual(Array.from({ length: 1994 }, (_, i) => i + 7));
      }
      const json = jsonLines((await runOpsterm([...cmd.slice(0, 2), "--json", ...cmd.slice(2)], h.env)).stdout);
      for (const line of json) {
        expect(line).toMatchObject({ stdout: "1\n2\n3\n4\n5\n6\n", truncated: { stdout: true, stderr: false } });
        expect(line.bytes.stdout).toBe(Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join("").length);
      }
    } finally {
      h.cleanup();
    }
  });
});

describe("many ids of one host", () => {
  it("a fan-out over more ids than one connection has channels shares one connection and finishes (it once hung at 9)", async () => {
    const servers = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`alias${i + 1}`, { ...sshd.server(), tags: ["same-box"] }]));
    const h = writeOpstermHome({ servers, knownHosts: [sshd.knownHostsLine()] });
    try {
      const before = (sshd.logs().match(/Accepted publickey/g) ?? []).length;
      const r = await runOpsterm(["exec", "@same-box", "--parallel", "20", "--json", "--", "uname", "-n"], h.env, { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      const results = jsonLines(r.stdout).filter((l) => l.server);
      expect(results.map((l) => l.server).sort()).toEqual(Object.keys(servers).sort());
      expect(results.every((l) => l.status === 0)).toBe(true);
      const logins = (sshd.logs().match(/Accepted publickey/g) ?? []).length - before;
      expect(logins, sshd.logs().split("\n").filter((l) => /Accepted|session/.test(l)).slice(-6).join("\n")).toBe(1);
    } finally {
      h.cleanup();
    }
  }, 90_000);
});
