/**
 * Reads ~/.ssh/config for `servers import-ssh-config`: Host blocks with HostName, User, Port,
 * IdentityFile and ProxyJump, `Include` followed (globs, relative to ~/.ssh), first value wins
 * as in OpenSSH, wildcard-only blocks skipped as entries (their values still apply as defaults).
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { DataError } from "../../src/kernel/index.ts";
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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (depth > 0 && (error as NodeJS.ErrnoException).code === "ENOENT") return blocks;
    throw new DataError("E_SSH_CONFIG", `Cannot read ${path}: ${(error as Error).message}`, { hint: "Pass the file with --file" });
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
        const full = expand(pattern, home);
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

function expand(path: string, home: string): string {
  return path === "~" ? home : path.startsWith("~/") ? join(home, path.slice(2)) : path;
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

/** Concrete aliases with the effective values OpenSSH would use for them. */
export function serversFromSshConfig(blocks: Block[]): ImportedServer[] {
  const aliases: string[] = [];
  for (const b of blocks) {
    for (const p of b.patterns ?? []) {
      if (!/[*?!]/.test(p) && !aliases.includes(p)) aliases.push(p);
    }
  }
  const result: ImportedServer[] = [];
  const extra = new Map<string, ImportedServer>();
  for (const alias of aliases) {
    const values = new Map<string, string>();
    for (const b of blocks) {
      if (b.match) continue;
      if (b.patterns && !matchHosts(b.patterns.join(","), alias)) continue;
      for (const [k, v] of b.options) if (!values.has(k)) values.set(k, v);
    }
    const server: ImportedServer = { id: alias, host: (values.get("hostname") ?? alias).replace(/%h/g, alias) };
    if (values.has("user")) server.user = values.get("user");
    const port = Number(values.get("port"));
    if (values.has("port") && Number.isInteger(port) && port !== 22) server.port = port;
    if (values.has("identityfile") && values.get("identityfile") !== "none") server.key = values.get("identityfile");
    const jump = values.get("proxyjump");
    if (jump && jump !== "none") {
      server.proxy = jump.split(",").map((spec) => {
        const hop = parseJump(spec);
        if (aliases.includes(hop.host) && !hop.user && !hop.port) return hop.host;
        const id = hop.host.replace(/[^A-Za-z0-9_.-]/g, "_");
        if (!aliases.includes(id) && !extra.has(id)) extra.set(id, { id, host: hop.host, ...(hop.user ? { user: hop.user } : {}), ...(hop.port && hop.port !== 22 ? { port: hop.port } : {}) });
        return id;
      });
      if (server.proxy.length === 1) server.proxy = server.proxy[0];
    }
    result.push(server);
  }
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
