/**
 * Starts a real OpenSSH sshd on 127.0.0.1 for tests: random free port, throwaway ed25519 host and
 * user keys, running as the current user in the foreground. Fails (never skips) when sshd is missing.
 *
 * @example
 * const sshd = await startSshd();
 * const home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
 * // spawn `npx tsx src/main.ts exec web1 -- uname -n` with env home.env
 * await sshd.stop();
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export const SSHD_BIN = process.env.OPSTERM_TEST_SSHD ?? "/usr/sbin/sshd";

export interface SshdOptions {
  /** Allow TCP forwarding (needed on bastions / jump hosts). Default true. */
  allowTcpForwarding?: boolean;
  /** Reuse an existing private user key instead of generating one (its .pub must exist). */
  userKeyPath?: string;
  /** Reuse an existing private host key (to keep the same identity across restarts). */
  hostKeyPath?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

export interface SshdHandle {
  host: "127.0.0.1";
  port: number;
  /** The user sshd accepts (the current user). */
  user: string;
  /** Temp dir holding keys, config and logs; removed by stop(). */
  dir: string;
  /** "ssh-ed25519 AAAA…" (no comment). */
  hostKeyPub: string;
  hostKeyPath: string;
  /** Private key accepted by this sshd (0600). */
  userKeyPath: string;
  /** A known_hosts line for this server: `[127.0.0.1]:port ssh-ed25519 AAAA…`. */
  knownHostsLine(name?: string): string;
  /** An inventory entry for servers.yaml pointing at this sshd. */
  server(extra?: Record<string, unknown>): Record<string, unknown>;
  /** sshd's stderr so far (for debugging a failing test). */
  logs(): string;
  /** Pid of the listening sshd. */
  pid: number;
  /** SIGKILLs the per-connection sshd processes (the listener keeps running): the network "drops". Returns how many. */
  killConnections(): number;
  /** Sends `signal` to the per-connection sshd processes (SIGSTOP: a host that hangs with TCP still up). Returns how many. */
  signalConnections(signal: NodeJS.Signals): number;
  stop(): Promise<void>;
}

/** ssh-keygen an ed25519 key pair at `path` (and `path.pub`). */
export function keygen(path: string, comment = "opsterm-test"): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], { stdio: "ignore" });
  return readFileSync(`${path}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  if (!existsSync(SSHD_BIN)) {
    throw new Error(`sshd not found at ${SSHD_BIN}: install it (apt-get install -y openssh-server); these tests need a real OpenSSH server`);
  }
  // sshd refuses to start as root without its privilege separation directory.
  if (!existsSync("/run/sshd") && process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), "opsterm-sshd-"));
  const hostKeyPath = options.hostKeyPath ?? join(dir, "host_ed25519");
  const hostKeyPub = options.hostKeyPath ? pubOf(hostKeyPath) : keygen(hostKeyPath, "host");
  const userKeyPath = options.userKeyPath ?? join(dir, "user_ed25519");
  const userKeyPub = options.userKeyPath ? pubOf(userKeyPath) : keygen(userKeyPath, "user");
  writeFileSync(join(dir, "authorized_keys"), userKeyPub + "\n", { mode: 0o600 });
  const user = userInfo().username;

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      // sshd keeps the first value it reads for a keyword: extra lines go first so they win.
      ...(options.extraConfig ?? []),
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "UsePAM no",
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      `AllowTcpForwarding ${options.allowTcpForwarding === false ? "no" : "yes"}`,
      "UseDNS no",
      "PrintMotd no",
      "PrintLastLog no",
      "MaxStartups 200",
      "MaxSessions 100",
      "LogLevel INFO",
      "Subsystem sftp internal-sftp",
      // bash reads ~/.bashrc for commands run over ssh only while SHLVL < 2: keep the login user's
      // rc files (pyenv, nvm, … taking 100+ ms and printing warnings) out of tests and benchmarks.
      "SetEnv SHLVL=5",
    ].join("\n");
    const configPath = join(dir, "sshd_config");
    writeFileSync(configPath, config + "\n", { mode: 0o600 });
    const child = spawn(SSHD_BIN, ["-D", "-e", "-f", configPath, "-h", hostKeyPath], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const started = await waitReady(child, port, () => log);
    if (!started.ok) {
      child.kill("SIGKILL");
      if (attempt < 3 && /Address already in use|Cannot bind/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start on port ${port}: ${started.why}\n${log}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      host: "127.0.0.1",
      port,
      user,
      dir,
      hostKeyPub,
      hostKeyPath,
      userKeyPath,
      knownHostsLine: (name = "127.0.0.1") => `${port === 22 ? name : `[${name}]:${port}`} ${hostKeyPub}`,
      server: (extra = {}) => ({ host: "127.0.0.1", port, user, key: userKeyPath, ...extra }),
      logs: () => log,
      pid: child.pid!,
      killConnections: () => killDescendants(child.pid!),
      signalConnections: (signal) => killDescendants(child.pid!, signal),
      stop() {
        stopped ??= new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 2000).unref();
        }).then(() => rmSync(dir, { recursive: true, force: true }));
        return stopped;
      },
    };
  }
}

/** Signals (SIGKILL by default) every descendant of `pid` (not `pid` itself), found through /proc. */
function killDescendants(pid: number, signal: NodeJS.Signals = "SIGKILL"): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …"; comm may hold spaces and parentheses: split after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const victims: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent === p) {
        victims.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  for (const v of victims) {
    try {
      process.kill(v, signal);
    } catch {
      // Already gone.
    }
  }
  return victims.length;
}

function pubOf(privatePath: string): string {
  return readFileSync(`${privatePath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
}

async function waitReady(child: ChildProcess, port: number, log: () => string): Promise<{ ok: true } | { ok: false; why: string }> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { ok: false, why: `sshd exited with ${child.exitCode}` };
    if (log().includes("Server listening") && (await accepts(port))) return { ok: true };
    await new Promise((r) => setTimeout(r, 15));
  }
  return { ok: false, why: "timeout after 10 s" };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface OpstermHomeOptions {
  /** servers.yaml `servers:` map (written as YAML via JSON, which YAML accepts). */
  servers?: Record<string, Record<string, unknown>>;
  /** Raw servers.yaml text instead of `servers`. */
  serversYaml?: string;
  /** Lines for the known_hosts file (written to <home>/known_hosts). */
  knownHosts?: string[];
  /** config.yaml contents (object, written as JSON which is valid YAML). */
  config?: Record<string, unknown>;
  /** Use this dir instead of a new temp dir. */
  dir?: string;
}

export interface OpstermHome {
  /** OPSTERM_HOME. */
  home: string;
  knownHostsPath: string;
  /** Env for a spawned opsterm: OPSTERM_HOME, OPSTERM_KNOWN_HOSTS, NO_COLOR, no agent, HOME in the temp dir. */
  env: Record<string, string>;
  /** Removes the temp dir. */
  cleanup(): void;
}

/** Writes an OPSTERM_HOME with servers.yaml, config.yaml and a known_hosts file. */
export function writeOpstermHome(options: OpstermHomeOptions = {}): OpstermHome {
  const home = options.dir ?? mkdtempSync(join(tmpdir(), "opsterm-home-"));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (options.serversYaml !== undefined) writeFileSync(join(home, "servers.yaml"), options.serversYaml, { mode: 0o600 });
  else if (options.servers) writeFileSync(join(home, "servers.yaml"), JSON.stringify({ servers: options.servers }, null, 2) + "\n", { mode: 0o600 });
  if (options.config) writeFileSync(join(home, "config.yaml"), JSON.stringify(options.config, null, 2) + "\n", { mode: 0o600 });
  const knownHostsPath = join(home, "known_hosts");
  if (options.knownHosts) writeFileSync(knownHostsPath, options.knownHosts.join("\n") + "\n", { mode: 0o600 });
  const userHome = join(home, "userhome");
  mkdirSync(userHome, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    OPSTERM_HOME: home,
    OPSTERM_KNOWN_HOSTS: knownHostsPath,
    NO_COLOR: "1",
    // Keep the developer's ~/.ssh, agent and config out of the tests.
    HOME: userHome,
    SSH_AUTH_SOCK: "",
    PATH: process.env.PATH ?? "/usr/bin:/bin",
  };
  return { home, knownHostsPath, env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** Runs `tsx src/main.ts …args` (no npx: HOME is a temp dir) with `env` added to a clean environment. */
export function runOpsterm(args: string[], env: Record<string, string>, options: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO, "node_modules/.bin/tsx"), [join(REPO, "src/main.ts"), ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(options.input ?? "");
  });
}
