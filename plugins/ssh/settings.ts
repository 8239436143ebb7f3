/**
 * How the `ssh.*` config keys (declared in config.ts) turn into connect() options: known_hosts path and mode,
 * the TTY question for unknown hosts, agent and default keys, deadlines.
 */
import { existsSync } from "node:fs";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { join } from "node:path";
import { ConfigError, type ActionContext, type CommandContext } from "../../src/kernel/index.ts";
import type { ConnectOptions, HostKeyMode } from "./connect.ts";
import { expandHome } from "../../src/kernel/index.ts";
import { loadInventory, resolveTargets, shadowNotice, type Inventory } from "./inventory.ts";
import type { ResolvedServer } from "./types.ts";
import { loadKnownHosts } from "./known-hosts.ts";
import { currentUser } from "../../src/lib/user.ts";

export interface SshSettings {
  knownHostsPath: string;
  /** The path comes from OPSTERM_KNOWN_HOSTS or `ssh.knownHosts`, not the ~/.ssh/known_hosts default. */
  knownHostsConfigured: boolean;
  /** Read-only extra known_hosts files. */
  extraKnownHosts: string[];
  hostKeys: HostKeyMode;
  /** Record new host keys as hashed `|1|` entries. */
  hashKnownHosts: boolean;
  connectTimeoutMs: number;
  parallel: number;
}

export async function sshSettings(ctx: Pick<CommandContext, "config" | "env" | "paths">): Promise<SshSettings> {
  const config = await ctx.config();
  const configured = config.get("ssh.knownHosts");
  const override = ctx.env.OPSTERM_KNOWN_HOSTS || (typeof configured === "string" ? expandHome(configured, ctx.paths.home) : undefined);
  const mode = config.get("ssh.hostKeys");
  const timeout = Number(config.get("ssh.connectTimeout") ?? 10);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new ConfigError("E_CONFIG_VALUE", "ssh.connectTimeout must be a positive number of seconds", { hint: "opsterm config set ssh.connectTimeout 10" });
  return {
    knownHostsPath: override ?? join(ctx.paths.home, ".ssh", "known_hosts"),
    knownHostsConfigured: Boolean(override),
    extraKnownHosts: !override && existsSync("/etc/ssh/ssh_known_hosts") ? ["/etc/ssh/ssh_known_hosts"] : [],
    hostKeys: mode === "accept-new" || mode === "strict" ? mode : "ask",
    hashKnownHosts: typeof config.get("ssh.hashKnownHosts") === "boolean" ? (config.get("ssh.hashKnownHosts") as boolean) : opensshHashesKnownHosts(ctx.paths.home),
    connectTimeoutMs: timeout * 1000,
    parallel: Number(config.get("ssh.parallel") ?? 32),
  };
}

/**
 * Whether OpenSSH is set to hash known_hosts (Debian's /etc/ssh/ssh_config says yes): the first
 * `HashKnownHosts` in ~/.ssh/config, else in /etc/ssh/ssh_config. Host/Match scoping is not
 * evaluated; `ssh.hashKnownHosts` overrides this guess.
 */
export function opensshHashesKnownHosts(home: string): boolean {
  for (const file of [join(home, ".ssh", "config"), "/etc/ssh/ssh_config"]) {
    let text: string | undefined;
    try {
      text = readBoundedText(file, { maxBytes: READ_LIMITS.ssh });
    } catch {
      continue;
    }
    if (text === undefined) continue;
    const m = /^\s*HashKnownHosts\s*(?:=\s*|\s)\s*(yes|no)\b/im.exec(text);
    if (m) return m[1].toLowerCase() === "yes";
  }
  return false;
}

/** connect() options for this invocation. One known_hosts read is shared by every host of a fan-out. */
export function connectOptions(ctx: Pick<ActionContext, "prompt" | "io" | "env" | "paths" | "signal" | "debug">, settings: SshSettings, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  const knownHosts = loadKnownHosts(settings.knownHostsPath, settings.extraKnownHosts, { hash: settings.hashKnownHosts });
  // Questions from concurrent connections must not interleave on one terminal.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = ctx.prompt.interactive && settings.hostKeys === "ask"
    ? (info: { name: string; keyType: string; fingerprint: string; hop: { id: string } }) => {
        const turn = queue.then(async () => {
          // A previous answer may already have recorded this very key.
          ctx.io.err(`The authenticity of host ${info.name} ("${info.hop.id}") can't be established.`);
          ctx.io.err(`${info.keyType} key fingerprint is ${info.fingerprint}.`);
          return ctx.prompt.confirm(`Trust it and add it to ${settings.knownHostsPath}?`, { default: false, what: "An unknown host key" });
        });
        queue = turn.catch(() => undefined);
        return turn;
      }
    : undefined;
  return {
    hostKeys: { knownHosts, mode: settings.hostKeys, ask },
    auth: authOptions(ctx),
    connectTimeoutMs: settings.connectTimeoutMs,
    signal: ctx.signal,
    debug: ctx.debug ? (m) => ctx.io.debug(m) : undefined,
    ...overrides,
  };
}

export function authOptions(ctx: Pick<ActionContext, "env" | "paths">): ConnectOptions["auth"] {
  const sshDir = join(ctx.paths.home, ".ssh");
  return {
    agent: ctx.env.SSH_AUTH_SOCK || undefined,
    defaultKeys: ["id_ed25519", "id_ecdsa", "id_rsa"].map((k) => join(sshDir, k)).filter((p) => existsSync(p)),
  };
}

/** The inventory for this invocation (read once). */
export async function inventoryFor(ctx: Pick<CommandContext, "env" | "paths">): Promise<Inventory> {
  return loadInventory(ctx.paths, { defaultUser: currentUser(ctx.env), home: ctx.paths.home });
}

/** Says on stderr, once per server, when a target's workspace entry replaces a global one. */
export function announceShadows(ctx: Pick<CommandContext, "io">, servers: ResolvedServer[]): void {
  for (const server of servers) {
    const notice = shadowNotice(server);
    if (notice) ctx.io.notice(notice);
  }
}

export { resolveTargets };
