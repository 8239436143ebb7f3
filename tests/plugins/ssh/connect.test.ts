import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type ConnectOptions } from "../../../plugins/ssh/connect.ts";
import { loadKnownHosts } from "../../../plugins/ssh/known-hosts.ts";
import type { Hop, ResolvedServer } from "../../../plugins/ssh/types.ts";
import { freePort, keygen, startSshd, type SshdHandle } from "../../helpers/sshd.ts";

let bastion: SshdHandle;
let inner: SshdHandle;
let dir: string;

beforeAll(async () => {
  bastion = await startSshd();
  inner = await startSshd({ userKeyPath: bastion.userKeyPath, allowTcpForwarding: false });
  dir = mkdtempSync(join(tmpdir(), "opsterm-connect-"));
});
afterAll(async () => {
  await Promise.all([bastion?.stop(), inner?.stop()]);
});

function hop(id: string, sshd: SshdHandle): Hop {
  return { id, host: "127.0.0.1", port: sshd.port, user: sshd.user, key: bastion.userKeyPath };
}
function server(id: string, sshd: SshdHandle, via: Hop[] = []): ResolvedServer {
  return { ...hop(id, sshd), proxy: via.map((h) => h.id), via, tags: [], scope: "global", at: "test" };
}
function options(lines: string[], extra: Partial<ConnectOptions> = {}, mode: "strict" | "accept-new" = "strict"): ConnectOptions {
  const path = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, lines.join("\n") + "\n");
  return { hostKeys: { knownHosts: loadKnownHosts(path), mode }, auth: { defaultKeys: [] }, connectTimeoutMs: 5000, ...extra };
}

describe("connect()", () => {
  it("runs a command through a jump host and returns its exit code and output", async () => {
    const conn = await connect(server("inner", inner, [hop("bastion", bastion)]), options([bastion.knownHostsLine(), inner.knownHostsLine()]));
    try {
      const result = await conn.exec("echo out; echo err >&2; exit 7");
      expect(result).toMatchObject({ exitCode: 7, stdout: "out\n", stderr: "err\n", truncated: { stdout: false, stderr: false } });
      expect((await conn.exec("true")).exitCode).toBe(0);
    } finally {
      conn.close();
    }
  });

  it("refuses a changed host key of a jump hop before authenticating", async () => {
    const other = keygen(join(dir, `other-${Date.now()}`));
    const opts = options([`[127.0.0.1]:${bastion.port} ${other}`, inner.knownHostsLine()]);
    const accepted = () => (bastion.logs().match(/Accepted publickey/g) ?? []).length;
    const before = accepted();
    await expect(connect(server("inner", inner, [hop("bastion", bastion)]), opts)).rejects.toMatchObject({ code: "E_HOSTKEY_CHANGED", exitCode: 77 });
    await new Promise((r) => setTimeout(r, 100));
    // No credential reached sshd: it logged no new login.
    expect(accepted()).toBe(before);
    expect(bastion.logs()).toMatch(/preauth/);
  });

  it("refuses a changed host key of the target", async () => {
    const other = keygen(join(dir, `other2-${Date.now()}`));
    const opts = options([bastion.knownHostsLine(), `[127.0.0.1]:${inner.port} ${other}`]);
    await expect(connect(server("inner", inner, [hop("bastion", bastion)]), opts)).rejects.toMatchObject({ code: "E_HOSTKEY_CHANGED" });
  });

  it("refuses an unknown host in strict mode and records it with accept-new", async () => {
    await expect(connect(server("b", bastion), options([]))).rejects.toMatchObject({ code: "E_HOSTKEY_UNKNOWN", exitCode: 77 });
    const opts = options([], {}, "accept-new");
    const conn = await connect(server("b", bastion), opts);
    conn.close();
    expect(readFileSync(opts.hostKeys.knownHosts.path, "utf8")).toContain(bastion.knownHostsLine());
  });

  it("refuses a @revoked key even when a plain entry matches", async () => {
    const opts = options([bastion.knownHostsLine(), `@revoked * ${bastion.hostKeyPub}`]);
    await expect(connect(server("b", bastion), opts)).rejects.toMatchObject({ code: "E_HOSTKEY_REVOKED" });
  });

  it("never treats a @cert-authority line as a plain host key", async () => {
    const opts = options([`@cert-authority [127.0.0.1]:${bastion.port} ${bastion.hostKeyPub}`]);
    await expect(connect(server("b", bastion), opts)).rejects.toMatchObject({ code: "E_HOSTKEY_UNKNOWN" });
  });

  it("refuses when known_hosts cannot be read", () => {
    const path = join(dir, "kh-dir");
    mkdirSync(path);
    expect(() => loadKnownHosts(path)).toThrow(expect.objectContaining({ code: "E_KNOWN_HOSTS_UNREADABLE" }));
  });

  it("reports a lost connection as exit status unknown, never 0", async () => {
    const conn = await connect(server("b", bastion), options([bastion.knownHostsLine()]));
    // Kill the sshd session process serving this connection.
    const result = await conn.exec("kill -9 $PPID; sleep 5");
    conn.close();
    expect(result.exitCode).toBeNull();
    expect(result.error?.code).toBe("E_SSH_LOST");
  });

  it("drops a connection whose server stops answering keepalives: exit status unknown", async () => {
    const conn = await connect(server("b", bastion), options([bastion.knownHostsLine()], { keepaliveIntervalMs: 200 }));
    const started = Date.now();
    const running = conn.exec("sleep 20; exit 0");
    await new Promise((r) => setTimeout(r, 300));
    // The session's sshd freezes: TCP stays up, nothing answers.
    expect(bastion.signalConnections("SIGSTOP")).toBeGreaterThan(0);
    try {
      const result = await running;
      expect(result).toMatchObject({ exitCode: null, error: { code: "E_SSH_LOST" } });
      // 3 unanswered keepalives at 200 ms, not the 20 s of the command.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      conn.close();
      bastion.killConnections();
    }
  });

  it("fails within the connect deadline when the host does not answer", async () => {
    // A listening socket that never speaks SSH.
    const { createServer } = await import("node:net");
    const port = await freePort();
    const silent = createServer(() => {}).listen(port, "127.0.0.1");
    const started = Date.now();
    const target: ResolvedServer = { id: "silent", host: "127.0.0.1", port, user: "x", key: bastion.userKeyPath, proxy: [], via: [], tags: [], scope: "global", at: "t" };
    await expect(connect(target, options([], { connectTimeoutMs: 700 }))).rejects.toMatchObject({ code: "E_SSH_TIMEOUT", exitCode: 69 });
    expect(Date.now() - started).toBeLessThan(3000);
    silent.close();
  });

  it("caps captured output and says so, while streaming everything", async () => {
    const conn = await connect(server("b", bastion), options([bastion.knownHostsLine()]));
    let streamed = 0;
    const result = await conn.exec("head -c 100000 /dev/zero", { maxCapture: 1000, onStdout: (c) => void (streamed += c.length) });
    conn.close();
    expect(result.stdout.length).toBe(1000);
    expect(result.truncated.stdout).toBe(true);
    expect(streamed).toBe(100000);
  });

  it("ends a command at its deadline with exit status unknown", async () => {
    const conn = await connect(server("b", bastion), options([bastion.knownHostsLine()]));
    const started = Date.now();
    // (The KILL signal request is sent too, but sshd refuses signals for root logins, which these tests use.)
    const result = await conn.exec("sleep 5; exit 0", { timeoutMs: 300 });
    conn.close();
    expect(result).toMatchObject({ exitCode: null, error: { code: "E_EXEC_TIMEOUT" } });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
