/**
 * SSH connections with ssh2 (pure JS): host-key verification of the target and of every jump hop
 * against known_hosts before any credential is sent, jump chains through `forwardOut`, deadlines,
 * keepalive and TCP_NODELAY. `Connection.exec()` never reports a lost connection as success.
 *
 * @example
 * const conn = await connect(server, { hostKeys: { knownHosts: loadKnownHosts(path), mode: "strict" }, auth: { defaultKeys: [] } });
 * const result = await conn.exec("uname -n", { onStdout: (b) => process.stdout.write(b) });
 * conn.close();
 */
import { readFileSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { DeniedError, InterruptedError, OpstermError, UnavailableError, ConfigError, type ErrorCode } from "../../src/kernel/index.ts";
import { fingerprint, hostKeyName, keyTypeOf, type KnownHostsFile } from "./known-hosts.ts";
import { pipeInput } from "../../src/lib/pipe-input.ts";
import type { Connection, ExecOptions, ExecResult } from "../../src/contracts/inventory.ts";
import type { Hop, ResolvedServer } from "./types.ts";

export type HostKeyMode = "ask" | "accept-new" | "strict";

export interface UnknownHostInfo {
  hop: Hop;
  /** `[host]:port` or `host`, as written to known_hosts. */
  name: string;
  keyType: string;
  fingerprint: string;
}

export interface HostKeyPolicy {
  knownHosts: KnownHostsFile;
  /** `ask`: ask a person (refuse with no TTY); `accept-new`: record unknown keys; `strict`: refuse unknown keys. */
  mode: HostKeyMode;
  /** Asks a person whether to trust an unknown key; absent when there is no TTY. */
  ask?: (info: UnknownHostInfo) => Promise<boolean>;
}

export interface AuthOptions {
  /** SSH_AUTH_SOCK, if any. */
  agent?: string;
  /** Keys to try when the inventory names none (~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist). */
  defaultKeys: string[];
}

export interface ConnectOptions {
  hostKeys: HostKeyPolicy;
  auth: AuthOptions;
  /** Deadline for TCP + handshake + auth, per hop (time spent asking a person is not counted). Default 10 s. */
  connectTimeoutMs?: number;
  /** Keepalive interval; the connection is dropped after 3 unanswered. Default 15 s. */
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
  debug?: (message: string) => void;
}

export type { Connection, ExecOptions, ExecResult } from "../../src/contracts/inventory.ts";

const DEFAULT_CAPTURE = 1024 * 1024;
const HOST_KEY_ALGOS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

type Ssh2 = typeof import("ssh2");
let ssh2Module: Promise<Ssh2> | undefined;
/** ssh2 is loaded on first use: `--help` must not pay for it. */
export function loadSsh2(): Promise<Ssh2> {
  ssh2Module ??= import("ssh2").then((m) => ((m as unknown as { default?: Ssh2 }).default ?? m) as Ssh2);
  return ssh2Module;
}

/** Opens an SSH connection to `target` through its jump chain (`target.via`). */
export async function connect(target: ResolvedServer, options: ConnectOptions): Promise<Connection> {
  const { Client } = await loadSsh2();
  const chain: Hop[] = [...target.via, target];
  const clients: Client[] = [];
  const closeAll = () => {
    for (const c of [...clients].reverse()) c.end();
  };
  try {
    let sock: Duplex | undefined;
    for (let i = 0; i < chain.length; i++) {
      const hop = chain[i];
      if (i > 0) sock = await forward(clients[i - 1], chain[i - 1], hop, options);
      clients.push(await connectHop(Client, hop, sock, options, i === chain.length - 1 ? undefined : target));
    }
  } catch (error) {
    closeAll();
    throw error;
  }
  const client = clients[clients.length - 1];
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  // A hop that drops takes the target with it.
  for (const hopClient of clients.slice(0, -1)) hopClient.once("close", () => client.end());
  return {
    server: target,
    client,
    exec: (command, execOptions = {}) => execOn(client, command, execOptions),
    close: closeAll,
    closed,
  };
}

function forward(via: Client, viaHop: Hop, hop: Hop, options: ConnectOptions): Promise<Duplex> {
  return withDeadline(options, `opening a tunnel through "${viaHop.id}" to "${hop.id}"`, hop, (settle) => {
    via.forwardOut("127.0.0.1", 0, hop.host, hop.port, (error, stream) => {
      if (error) {
        settle.reject(
          new UnavailableError("E_SSH_JUMP", `Jump host "${viaHop.id}" could not reach "${hop.id}" (${hop.host}:${hop.port}): ${error.message}`, {
            hint: `Check that "${viaHop.id}" allows TCP forwarding (AllowTcpForwarding yes) and can reach ${hop.host}:${hop.port}`,
          }),
        );
      } else settle.resolve(stream);
    });
    return () => {};
  });
}

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Stops the deadline clock (while a person answers a prompt). */
  pause(): void;
  resume(): void;
}

/** Runs `start` with a deadline that can be paused, and honours the abort signal. */
function withDeadline<T>(options: ConnectOptions, what: string, hop: Hop, start: (settle: Settle<T>) => () => void): Promise<T> {
  const ms = options.connectTimeoutMs ?? 10_000;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let remaining = ms;
    let startedAt = Date.now();
    let cleanup: () => void = () => {};
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const arm = () => {
      startedAt = Date.now();
      timer = setTimeout(() => {
        finish(() => {
          cleanup();
          reject(new UnavailableError("E_SSH_TIMEOUT", `Timed out after ${Math.round(ms / 100) / 10} s ${what} (${hop.host}:${hop.port})`, { hint: `Check that "${hop.id}" is up and reachable, or raise --connect-timeout` }));
        });
      }, remaining);
    };
    const onAbort = () =>
      finish(() => {
        cleanup();
        reject(new InterruptedError());
      });
    if (options.signal?.aborted) return reject(new InterruptedError());
    options.signal?.addEventListener("abort", onAbort, { once: true });
    arm();
    const settle: Settle<T> = {
      resolve: (v) => finish(() => resolve(v)),
      reject: (e) => finish(() => reject(e)),
      pause() {
        if (timer) clearTimeout(timer);
        timer = undefined;
        remaining = Math.max(1, remaining - (Date.now() - startedAt));
      },
      resume() {
        if (!done && !timer) arm();
      },
    };
    try {
      cleanup = start(settle);
    } catch (error) {
      settle.reject(error);
    }
  });
}

function connectHop(Client: Ssh2["Client"], hop: Hop, sock: Duplex | undefined, options: ConnectOptions, jumpFor: ResolvedServer | undefined): Promise<Client> {
  const role = jumpFor ? `jump host "${hop.id}" (for "${jumpFor.id}")` : `"${hop.id}"`;
  return withDeadline<Client>(options, `connecting to ${role}`, hop, (settle) => {
    const client = new Client();
    let hostKeyFailure: OpstermError | undefined;
    let tcp: Socket | undefined;
    const policy = options.hostKeys;
    const name = hostKeyName(hop.host, hop.port);

    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void) => {
      const status = policy.knownHosts.check(hop.host, hop.port, key);
      const fp = fingerprint(key);
      const keyType = keyTypeOf(key);
      options.debug?.(`host key of ${role} ${name}: ${keyType} ${fp} → ${status.status}`);
      if (status.status === "known") return verify(true);
      if (status.status === "revoked") {
        hostKeyFailure = new DeniedError("E_HOSTKEY_REVOKED", `The host key of ${role} (${name}, ${keyType} ${fp}) is marked @revoked in ${status.at}; refusing to connect`, {
          hint: "Someone revoked this key on purpose: ask the server's owner for the new one",
        });
        return verify(false);
      }
      if (status.status === "changed") {
        const was = status.expected.map((e) => `${e.keyType} ${e.fingerprint} (${e.at})`).join(", ");
        hostKeyFailure = new DeniedError(
          "E_HOSTKEY_CHANGED",
          `WARNING: THE HOST KEY OF ${role.replace(/^[^"]*/, (words) => words.toUpperCase())} (${name}) HAS CHANGED. It now offers ${keyType} ${fp}, known_hosts has ${was}. Someone may be intercepting the connection (man in the middle), or the host was reinstalled. Nothing was sent; refusing to connect`,
          { hint: `If the change is expected, verify the new fingerprint out of band, then remove the old entry: ssh-keygen -R "${name}" -f ${policy.knownHosts.path}` },
        );
        return verify(false);
      }
      // Unknown host.
      const info: UnknownHostInfo = { hop, name, keyType, fingerprint: fp };
      if (policy.mode === "accept-new") {
        policy.knownHosts.add(hop.host, hop.port, key).then(
          () => verify(true),
          (error) => {
            hostKeyFailure = asOpsterm(error);
            verify(false);
          },
        );
        return;
      }
      if (policy.mode === "ask" && policy.ask) {
        settle.pause();
        policy.ask(info).then(
          async (yes) => {
            settle.resume();
            if (!yes) {
              hostKeyFailure = new DeniedError("E_HOSTKEY_UNKNOWN", `Host key of ${role} (${name}, ${keyType} ${fp}) was not accepted`, { hint: "Nothing was sent to the host" });
              return verify(false);
            }
            try {
              await policy.knownHosts.add(hop.host, hop.port, key);
              verify(true);
            } catch (error) {
              hostKeyFailure = asOpsterm(error);
              verify(false);
            }
          },
          (error) => {
            settle.resume();
            hostKeyFailure = asOpsterm(error);
            verify(false);
          },
        );
        return;
      }
      hostKeyFailure = new DeniedError("E_HOSTKEY_UNKNOWN", `${role} (${name}) is not in known_hosts (${policy.knownHosts.path}); it offers ${keyType} ${fp}. Refusing to trust it without a terminal to ask on`, {
        hint: `Verify the fingerprint, then add the key: ssh-keyscan -p ${hop.port} ${hop.host} >> ${policy.knownHosts.path} (or set "ssh.hostKeys: accept-new" to record new hosts automatically)`,
      });
      verify(false);
    };

    const known = policy.knownHosts.knownTypes(hop.host, hop.port);
    const prefer = HOST_KEY_ALGOS.filter((a) => known.includes(a) || (a.startsWith("rsa-sha2") && known.includes("ssh-rsa")));
    const config: ConnectConfig = {
      username: hop.user,
      readyTimeout: 0, // our own deadline, which pauses while a person answers
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      hostVerifier: hostVerifier as ConnectConfig["hostVerifier"],
      authHandler: authMethods(hop, options.auth) as ConnectConfig["authHandler"],
      algorithms: prefer.length ? { serverHostKey: { prepend: prefer } as never } : undefined,
      debug: options.debug ? (m: string) => options.debug!(`[${hop.id}] ${m}`) : undefined,
    };

    client.once("ready", () => settle.resolve(client));
    client.on("error", (error: Error & { level?: string; code?: string }) => {
      if (hostKeyFailure) return settle.reject(hostKeyFailure);
      settle.reject(classify(error, hop, role));
    });
    client.once("close", () => {
      settle.reject(hostKeyFailure ?? new UnavailableError("E_SSH_CLOSED", `${role} closed the connection during the handshake`, { hint: "Check the server's sshd logs" }));
    });

    if (sock) {
      config.sock = sock as never;
      client.connect(config);
    } else {
      tcp = tcpConnect({ host: hop.host, port: hop.port });
      tcp.setNoDelay(true);
      tcp.once("connect", () => {
        config.sock = tcp as never;
        client.connect(config);
      });
      tcp.once("error", (error) => settle.reject(classify(error, hop, role)));
    }
    return () => {
      client.end();
      tcp?.destroy();
      (sock as Duplex | undefined)?.destroy();
    };
  });
}

function asOpsterm(error: unknown): OpstermError {
  return error instanceof OpstermError ? error : new DeniedError("E_HOSTKEY", `Could not record the host key: ${(error as Error).message}`);
}

function classify(error: Error & { level?: string; code?: string }, hop: Hop, role: string): OpstermError {
  if (error instanceof OpstermError) return error;
  const msg = error.message;
  if (error.level === "client-authentication" || /authentication methods failed/i.test(msg)) {
    return new UnavailableError("E_SSH_AUTH", `Cannot authenticate to ${role} as "${hop.user}": all keys were rejected`, {
      hint: hop.key ? `Check that ${hop.key} is in ~${hop.user}/.ssh/authorized_keys on ${hop.host}` : "Add a key to ssh-agent, set `key:` in servers.yaml, or create ~/.ssh/id_ed25519",
    });
  }
  const code = error.code ?? "";
  const why = code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" || code === "EAI_AGAIN" ? "host name not found" : code === "EHOSTUNREACH" || code === "ENETUNREACH" ? "host unreachable" : msg;
  return new UnavailableError("E_SSH_CONNECT", `Cannot connect to ${role} at ${hop.host}:${hop.port}: ${why}`, {
    hint: `Check that the host is up and sshd listens on port ${hop.port}; "opsterm servers test ${hop.id}" tries it`,
  });
}

const keyCache = new Map<string, Buffer | Error>();

function readKey(path: string): Buffer | Error {
  let cached = keyCache.get(path);
  if (!cached) {
    try {
      cached = readFileSync(path);
    } catch (error) {
      cached = error as Error;
    }
    keyCache.set(path, cached);
  }
  return cached;
}

type AuthMethod = { type: "publickey"; username: string; key: Buffer } | { type: "agent"; username: string; agent: string } | { type: "none"; username: string };

/** Inventory key, else ssh-agent, else the default keys; the agent stays a fallback after an explicit key. */
function authMethods(hop: Hop, auth: AuthOptions): AuthMethod[] {
  const methods: AuthMethod[] = [];
  if (hop.key) {
    const key = readKey(hop.key);
    if (key instanceof Error) {
      throw new ConfigError("E_SSH_KEY", `Cannot read the key for "${hop.id}" (${hop.key}): ${key.message}`, { hint: `Fix "key:" of "${hop.id}" in servers.yaml` });
    }
    if (/ENCRYPTED|bcrypt/.test(key.toString("latin1", 0, 400)) && isEncrypted(key)) {
      if (!auth.agent) {
        throw new ConfigError("E_SSH_KEY_ENCRYPTED", `The key for "${hop.id}" (${hop.key}) has a passphrase`, { hint: `Load it into ssh-agent (ssh-add ${hop.key}) and run again with SSH_AUTH_SOCK set` });
      }
    } else methods.push({ type: "publickey", username: hop.user, key });
  }
  if (auth.agent) methods.push({ type: "agent", username: hop.user, agent: auth.agent });
  if (!hop.key) {
    for (const path of auth.defaultKeys) {
      const key = readKey(path);
      if (!(key instanceof Error) && !isEncrypted(key)) methods.push({ type: "publickey", username: hop.user, key });
    }
  }
  if (methods.length === 0) {
    throw new ConfigError("E_SSH_NO_KEY", `No SSH key to log in to "${hop.id}" with`, {
      hint: `Set "key:" for "${hop.id}" in servers.yaml, start ssh-agent (SSH_AUTH_SOCK), or create ~/.ssh/id_ed25519`,
    });
  }
  return methods;
}

function isEncrypted(key: Buffer): boolean {
  const text = key.toString("latin1");
  if (text.includes("ENCRYPTED")) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END/.exec(text);
  if (!m) return false;
  const raw = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  // openssh-key-v1\0, then the cipher name: "none" for a plain key.
  const off = 15;
  const len = raw.readUInt32BE(off);
  return raw.toString("latin1", off + 4, off + 4 + len) !== "none";
}

/** Kills a remote process group over a new channel (best effort: the connection may be going). */
function killGroup(client: Client, pid: number, done: () => void): void {
  // Settles within 3 s whatever happens: a cancel must not hang on a dying connection.
  const timer = setTimeout(done, 3000);
  const end = () => {
    clearTimeout(timer);
    done();
  };
  try {
    client.exec(`kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid}`, (error, stream) => {
      if (error) return end();
      stream.on("data", () => undefined);
      stream.stderr.on("data", () => undefined);
      stream.on("close", end);
    });
  } catch {
    // The connection is gone; so is the command's session.
    end();
  }
}

/** Runs one command on an open client. */
export function execOn(client: Client, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  const max = options.maxCapture ?? DEFAULT_CAPTURE;
  return new Promise<ExecResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const size = { out: 0, err: 0 };
    const truncated = { stdout: false, stderr: false };
    let exitCode: number | null = null;
    let signal: string | null = null;
    let gotExit = false;
    let done = false;
    let channel: ClientChannel | undefined;
    let execTimer: NodeJS.Timeout | undefined;
    let remotePid: number | undefined;
    let stopping: { code: ErrorCode; message: string } | undefined;
    // With killOnAbort the first stderr line is "\x1eopsterm-pid:<pid>": read it, never pass it on.
    let pidLine: Buffer | undefined = options.killOnAbort ? Buffer.alloc(0) : undefined;

    const finish = (error?: { code: ErrorCode; message: string }) => {
      if (done) return;
      done = true;
      clearTimeout(channelTimer);
      if (execTimer) clearTimeout(execTimer);
      options.signal?.removeEventListener("abort", onAbort);
      client.removeListener("close", onLost);
      client.removeListener("error", onLost);
      let why = error;
      if (!why && !gotExit) why = { code: "E_SSH_LOST", message: "the connection was lost before the command finished: exit status unknown" };
      if (!why && exitCode === null && !signal) why = { code: "E_EXIT_UNKNOWN", message: "the server sent no exit status" };
      resolve({
        exitCode: why && why.code !== "E_EXIT_UNKNOWN" ? null : exitCode,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        truncated,
        error: why,
      });
    };
    const stop = (error: { code: ErrorCode; message: string }) => {
      // The server may ignore the signal request: kill the command's process group (sshd made the
      // shell a session leader, so its pid is the group) over a second channel.
      const pid = remotePid;
      remotePid = undefined;
      stopping = error;
      if (channel) {
        try {
          // Channel.signal() is a no-op once stdin is at EOF (not writable); the request itself is still valid.
          const ch = channel as unknown as { outgoing: { id: number; state: string }; _client: { _protocol: { signal(id: number, name: string): void } } };
          if (ch.outgoing?.state === "open" || ch.outgoing?.state === "eof") ch._client._protocol.signal(ch.outgoing.id, "KILL");
        } catch {
          // Not every server honours signals; closing the channel is what counts.
        }
        // The kill goes first: the channel closes when the command is gone, or after it.
        if (pid === undefined || done) channel.close();
      }
      if (pid === undefined || done) return finish(error);
      killGroup(client, pid, () => {
        channel?.close();
        finish(error);
      });
    };
    const onAbort = () => stop({ code: "E_INTERRUPTED", message: "interrupted: exit status unknown" });
    const onLost = () => finish(gotExit ? undefined : { code: "E_SSH_LOST", message: "the connection was lost before the command finished: exit status unknown" });
    const channelTimer = setTimeout(() => finish({ code: "E_SSH_CHANNEL_TIMEOUT", message: `the server did not open a session within ${(options.channelTimeoutMs ?? 10_000) / 1000} s` }), options.channelTimeoutMs ?? 10_000);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    client.once("close", onLost);
    client.once("error", onLost);

    const take = (chunks: Buffer[], which: "out" | "err", chunk: Buffer) => {
      const room = max - size[which];
      if (room <= 0) {
        truncated[which === "out" ? "stdout" : "stderr"] = true;
        return;
      }
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (part !== chunk) truncated[which === "out" ? "stdout" : "stderr"] = true;
      chunks.push(part);
      size[which] += part.length;
    };

    try {
      const line = options.killOnAbort ? `printf '\\036opsterm-pid:%s\\n' "$$" >&2; ${command}` : command;
      client.exec(line, (error, stream) => {
        clearTimeout(channelTimer);
        if (done) {
          stream?.close();
          return;
        }
        if (error) return finish({ code: "E_SSH_CHANNEL", message: `could not start the command: ${error.message}` });
        channel = stream;
        // A slow local reader pauses the channel; ssh2 then stops granting window, and the
        // remote command blocks on its write instead of opsterm buffering without bound.
        const hold = (pending: void | Promise<void> | undefined) => {
          if (!pending || typeof pending.then !== "function") return;
          stream.pause();
          stream.stderr.pause();
          pending.then(
            () => {
              stream.resume();
              stream.stderr.resume();
            },
            () => {
              stream.resume();
              stream.stderr.resume();
            },
          );
        };
        stream.on("data", (chunk: Buffer) => {
          take(out, "out", chunk);
          hold(options.onStdout?.(chunk));
        });
        stream.stderr.on("data", (chunk: Buffer) => {
          if (pidLine !== undefined) {
            pidLine = Buffer.concat([pidLine, chunk]);
            const nl = pidLine.indexOf(10);
            if (nl === -1 && pidLine.length < 64) return;
            const m = nl === -1 ? null : /^\x1eopsterm-pid:(\d+)$/.exec(pidLine.subarray(0, nl).toString("latin1"));
            if (m) remotePid = Number(m[1]);
            chunk = m ? pidLine.subarray(nl + 1) : pidLine;
            pidLine = undefined;
            if (chunk.length === 0) return;
          }
          take(err, "err", chunk);
          hold(options.onStderr?.(chunk));
        });
        stream.on("exit", (code: number | null, sig?: string) => {
          gotExit = true;
          if (typeof code === "number") exitCode = code;
          else if (sig) signal = sig;
        });
        stream.on("close", () => finish(stopping));
        if (options.timeoutMs && options.timeoutMs > 0) {
          execTimer = setTimeout(() => stop({ code: "E_EXEC_TIMEOUT", message: `the command did not finish within ${options.timeoutMs! / 1000} s: exit status unknown` }), options.timeoutMs);
        }
        pipeInput(stream, options.stdin);
      });
    } catch (error) {
      finish({ code: "E_SSH_CHANNEL", message: `could not start the command: ${(error as Error).message}` });
    }
  });
}

