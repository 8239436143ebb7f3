/**
 * Reads ~/.ssh/config for `servers import-ssh-config`: Host blocks with HostName, User, Port,
 * IdentityFile and ProxyJump, `Include` followed (globs, relative to ~/.ssh), first value wins
 * as in OpenSSH, wildcard-only blocks skipped as entries (their values still apply as defaults).
 */
import { readdirSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { DataError } from "../../src/kernel/index.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { expandHome } from "../../src/kernel/index.ts";
import { globToRegExp, type RawServer } from "./inventory.ts";
import { matchHosts } from "./known-hosts.ts";

interface Block {
  /** Host patterns; undefined for the top of a file (applies to every host). */
  patterns?: string[];
  /** `Match` blocks are not evaluated: they never apply. */
  match?: boolean;
  options: [string, string][];
}

const KEYS = new Set(["hostname", "user", "port", "identityfile", "proxyjump"]);

export function parseSshConfig(path: string, home: string, depth = 0, blocks: Block[] = [{ options: [] }]): Block[] {
  if (depth > 16) throw new DataError("E_SSH_CONFIG", `${path}: Include nested too deeply`);
  let text: string | undefined;
  try {
    text = readBoundedText(path, { maxBytes: READ_LIMITS.ssh, what: "ssh config files" });
  } catch (error) {
    throw new DataError("E_SSH_CONFIG", `Cannot read ${path}: ${(error as Error).message}`, { hint: "Pass the file with --file" });
  }
  if (text === undefined) {
    if (depth > 0) return blocks;
    throw new DataError("E_SSH_CONFIG", `Cannot read ${path}: it does not exist`, { hint: "Pass the file with --file" });
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const args = splitArgs(m[2]);
    if (key === "host") blocks.push({ patterns: args, options: [] });
    else if (key === "match") blocks.push({ match: true, options: [] });
    else if (key === "include") {
      for (const pattern of args) {
        const full = expandHome(pattern, home);
        const abs = isAbsolute(full) ? full : join(home, ".ssh", full);
        for (const file of globFiles(abs)) parseSshConfig(file, home, depth + 1, blocks);
      }
      // OpenSSH: an Include inside a Host block keeps the block's condition afterwards; approximate by reopening it.
      const last = blocks[blocks.length - 1];
      blocks.push({ patterns: last.patterns, match: last.match, options: [] });
    } else if (KEYS.has(key) && args.length) blocks[blocks.length - 1].options.push([key, args.join(" ")]);
  }
  return blocks;
}

function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m[1] ?? m[2]);
  return out;
}

function globFiles(pattern: string): string[] {
  if (!/[*?]/.test(basename(pattern))) return [pattern];
  const dir = dirname(pattern);
  const re = globToRegExp(basename(pattern));
  try {
    return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export interface ImportedServer extends RawServer {
  id: string;
}

export interface ImportOptions {
  /** For `%d` and `~` in IdentityFile. */
  home: string;
  /** For `%u` (and `%r` when no User is set). */
  localUser: string;
}

/**
 * Concrete aliases with the effective values OpenSSH would use for them. A ProxyJump hop that is
 * an alias used as is becomes `proxy: <alias>`; any other hop (a plain host, or an alias with
 * another user or port) becomes an entry of its own, with that host's effective config applied.
 */
export function serversFromSshConfig(blocks: Block[], options: ImportOptions = { home: "~", localUser: "" }): ImportedServer[] {
  const aliases: string[] = [];
  for (const b of blocks) {
    for (const p of b.patterns ?? []) {
      if (!/[*?!]/.test(p) && !aliases.includes(p)) aliases.push(p);
    }
  }
  /** First value wins per keyword, over every block that applies to `name`. */
  const effective = (name: string): Map<string, string> => {
    const values = new Map<string, string>();
    for (const b of blocks) {
      if (b.match) continue;
      if (b.patterns && !matchHosts(b.patterns.join(","), name)) continue;
      for (const [k, v] of b.options) if (!values.has(k)) values.set(k, v);
    }
    return values;
  };
  const entryFor = (id: string, name: string, override: { user?: string; port?: number } = {}): ImportedServer => {
    const values = effective(name);
    const host = (values.get("hostname") ?? name).replace(/%h/g, name).replace(/%%/g, "%");
    const server: ImportedServer = { id, host };
    const user = override.user ?? values.get("user");
    if (user) server.user = user;
    const port = override.port ?? Number(values.get("port") ?? 22);
    if (Number.isInteger(port) && port !== 22) server.port = port;
    const key = values.get("identityfile");
    if (key && key !== "none") {
      const tokens: Record<string, string> = { "%": "%", d: options.home, h: host, n: name, p: String(port || 22), r: user ?? options.localUser, u: options.localUser };
      server.key = key.replace(/%([%dhnpru])/g, (_, t: string) => tokens[t]);
    }
    const jump = values.get("proxyjump");
    if (jump && jump !== "none") {
      const chain = jump.split(",").map(hopId);
      server.proxy = chain.length === 1 ? chain[0] : chain;
    }
    return server;
  };
  const extra = new Map<string, ImportedServer>();
  const hopId = (spec: string): string => {
    const hop = parseJump(spec.trim());
    if (aliases.includes(hop.host)) {
      const alias = entryFor(hop.host, hop.host);
      const samePort = hop.port === undefined || hop.port === (alias.port ?? 22);
      if ((hop.user === undefined || hop.user === alias.user) && samePort) return hop.host;
    }
    const id = [hop.user, hop.host.replace(/[^A-Za-z0-9_.-]/g, "_"), hop.port].filter((x) => x !== undefined).join("_").replace(/^[^A-Za-z0-9_]/, "_");
    if (!aliases.includes(id) && !extra.has(id)) {
      extra.set(id, { id, host: "" }); // placeholder against ProxyJump loops
      extra.set(id, entryFor(id, hop.host, { user: hop.user, port: hop.port }));
    }
    return id;
  };
  const result = aliases.map((alias) => entryFor(alias, alias));
  return [...result, ...extra.values()];
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export function parseJump(spec: string): { user?: string; host: string; port?: number } {
  const s = spec.replace(/^ssh:\/\//, "");
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  let rest = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const bracket = /^\[(.+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    port = bracket[2] ? Number(bracket[2]) : undefined;
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon > 0 && rest.indexOf(":") === colon) {
      port = Number(rest.slice(colon + 1));
      rest = rest.slice(0, colon);
    }
  }
  return { user, host: rest, port };
}
