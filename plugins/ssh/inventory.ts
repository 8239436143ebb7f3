/**
 * The server inventory: `servers.yaml` in the config dir plus `.opsterm/servers.yaml` in the
 * trusted workspace (workspace entries replace global ones by id, keeping the global entry's
 * policy tier). Strict validation with file:line, jump chains expanded, unknown proxy ids and
 * proxy cycles reported where they are written.
 */
import { ConfigError, expandHome, stateFiles, UsageError, type Notice, type Paths } from "../../src/kernel/index.ts";
import { closest, validate, type SchemaNode } from "../../src/lib/schema.ts";
import { locate, readYamlFile, schemaError, type YamlFile } from "../../src/lib/yaml-file.ts";
import type { Hop, ResolvedServer } from "./types.ts";

const SERVER_SCHEMA: SchemaNode = {
  type: "object",
  required: ["host"],
  properties: {
    host: { type: "string", description: "Host name or address" },
    user: { type: "string", description: "Login user (default: the current user)" },
    port: { type: "number", integer: true, min: 1, max: 65535, description: "SSH port (default 22)" },
    key: { type: "string", description: "Private key file (default: ssh-agent, then ~/.ssh/id_*)" },
    proxy: { type: "oneOf", of: [{ type: "string" }, { type: "array", items: { type: "string" } }], description: "Jump host id, or a list for a chain" },
    tags: { type: "array", items: { type: "string" } },
    tier: { type: "string", description: "Policy tier, e.g. prod" },
    desc: { type: "string" },
  },
};

const FILE_SCHEMA: SchemaNode = {
  type: "object",
  properties: { servers: { type: "object", additional: SERVER_SCHEMA } },
};

export interface RawServer {
  host: string;
  user?: string;
  port?: number;
  key?: string;
  proxy?: string | string[];
  tags?: string[];
  tier?: string;
  desc?: string;
}

export interface InventoryFile {
  scope: "global" | "workspace";
  path: string;
  file?: YamlFile;
  servers: Record<string, RawServer>;
}

/** Ids become argv elements of ssh and keys in YAML: keep them boring. */
const ID = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** servers.yaml globally and, when the workspace is trusted, in its .opsterm/ (with its pinned hash). */
export function inventoryPaths(paths: Paths): { scope: "global" | "workspace"; path: string; pinned?: string | null }[] {
  return stateFiles(paths, "servers.yaml");
}

export async function readInventoryFile(scope: "global" | "workspace", path: string, pinned?: string | null): Promise<InventoryFile> {
  const file = await readYamlFile(path, ConfigError, { pinned });
  return file ? checkInventoryFile(scope, path, file) : { scope, path, servers: {} };
}

/** Validates a parsed servers.yaml (schema, ids, host and user values); throws ConfigError with file:line. */
export function checkInventoryFile(scope: "global" | "workspace", path: string, file: YamlFile, hint = `Fix ${path}; see "opsterm help ssh" for the servers.yaml format`): InventoryFile {
  const data = file.data ?? {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError("E_SCHEMA", `${path}:1:1: expected a mapping with a "servers:" key`, { hint: "See \"opsterm help ssh\" for the servers.yaml format" });
  }
  const issues = validate(data, FILE_SCHEMA);
  const servers = ((data as { servers?: Record<string, RawServer> | null }).servers ?? {}) as Record<string, RawServer>;
  for (const [id, s] of Object.entries(servers)) {
    if (!ID.test(id)) issues.push({ path: ["servers", id], atKey: true, message: `invalid id "${id}": use letters, digits, "_", ".", "-" (not first)` });
    if (!s || typeof s !== "object") continue;
    for (const field of ["host", "user"] as const) {
      const v = s[field];
      if (typeof v === "string" && (v.startsWith("-") || CONTROL.test(v) || /\s/.test(v) || v === "")) {
        issues.push({ path: ["servers", id, field], message: `invalid ${field} ${JSON.stringify(v)}: must not be empty, start with "-" or hold spaces or control characters` });
      }
    }
  }
  if (issues.length) throw schemaError(file, issues, ConfigError, hint);
  return { scope, path, file, servers };
}

export interface Inventory {
  files: InventoryFile[];
  servers: ResolvedServer[];
  byId: Map<string, ResolvedServer>;
}

export interface InventoryOptions {
  /** Login user when an entry has none. */
  defaultUser: string;
  /** For `~` in key paths. */
  home: string;
}

export async function loadInventory(paths: Paths, options: InventoryOptions): Promise<Inventory> {
  const files = await Promise.all(inventoryPaths(paths).map((f) => readInventoryFile(f.scope, f.path, f.pinned)));
  return buildInventory(files, options);
}

export function buildInventory(files: InventoryFile[], options: InventoryOptions): Inventory {
  const merged = new Map<string, { raw: RawServer; file: InventoryFile; shadows?: { file: InventoryFile; raw: RawServer } }>();
  for (const file of files) {
    for (const [id, raw] of Object.entries(file.servers)) {
      const previous = merged.get(id);
      const shadows = previous && previous.file.scope !== file.scope ? { file: previous.file, raw: previous.raw } : undefined;
      // The policy tier is the global entry's: a workspace cannot move "db1" out of "prod".
      merged.set(id, { raw: shadows?.raw.tier ? { ...raw, tier: shadows.raw.tier } : raw, file, shadows });
    }
  }
  const at = (file: InventoryFile, path: (string | number)[], atKey = false) => (file.file ? locate(file.file, path, atKey) : file.path);
  const hopOf = (id: string): Hop => {
    const { raw } = merged.get(id)!;
    return { id, host: raw.host, port: raw.port ?? 22, user: raw.user ?? options.defaultUser, key: raw.key ? expandHome(raw.key, options.home) : undefined };
  };
  const proxiesOf = (raw: RawServer): string[] => (raw.proxy === undefined ? [] : Array.isArray(raw.proxy) ? raw.proxy : raw.proxy.split(",").map((s) => s.trim()).filter(Boolean));

  // Unknown proxy ids.
  const problems: string[] = [];
  for (const [id, { raw, file }] of merged) {
    for (const p of proxiesOf(raw)) {
      if (!merged.has(p)) {
        const guess = closest(p, [...merged.keys()]);
        problems.push(`${at(file, ["servers", id, "proxy"])}: servers.${id}.proxy: unknown server "${p}"${guess ? ` (did you mean "${guess}"?)` : ""}`);
      }
    }
  }
  if (problems.length) throw new ConfigError("E_PROXY_UNKNOWN", problems.join("\n"), { hint: "A proxy must be the id of another server in servers.yaml" });

  // Expand chains: the hops of a proxy come before the proxy itself, as with ssh -J.
  const chains = new Map<string, string[]>();
  const expand = (id: string, stack: string[]): string[] => {
    const done = chains.get(id);
    if (done) return done;
    if (stack.includes(id)) {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      const { file } = merged.get(stack[stack.length - 1])!;
      throw new ConfigError("E_PROXY_CYCLE", `${at(file, ["servers", stack[stack.length - 1], "proxy"])}: proxy cycle: ${cycle.join(" → ")}`, {
        hint: "A server cannot be reached through itself: break the cycle in one of these proxy: entries",
      });
    }
    const chain: string[] = [];
    for (const p of proxiesOf(merged.get(id)!.raw)) {
      const sub = expand(p, [...stack, id]);
      // `proxy: [bastion, inner]` where inner itself goes through bastion: do not hop twice.
      const already = sub.length <= chain.length && sub.every((h, i) => chain[chain.length - sub.length + i] === h);
      if (!already) chain.push(...sub);
      chain.push(p);
    }
    if (chain.includes(id)) {
      throw new ConfigError("E_PROXY_CYCLE", `${at(merged.get(id)!.file, ["servers", id, "proxy"])}: proxy cycle: ${id} is in its own jump chain (${chain.join(" → ")})`, { hint: "Break the cycle" });
    }
    chains.set(id, chain);
    return chain;
  };

  const servers: ResolvedServer[] = [];
  for (const [id, { raw, file, shadows }] of [...merged].sort(([a], [b]) => a.localeCompare(b))) {
    servers.push({
      ...hopOf(id),
      proxy: proxiesOf(raw),
      via: expand(id, []).map(hopOf),
      tags: raw.tags ?? [],
      tier: raw.tier,
      desc: raw.desc,
      scope: file.scope,
      at: at(file, ["servers", id], true),
      shadows: shadows ? { scope: "global", at: at(shadows.file, ["servers", id], true), host: shadows.raw.host, port: shadows.raw.port ?? 22 } : undefined,
    });
  }
  return { files, servers, byId: new Map(servers.map((s) => [s.id, s])) };
}


/** One line for a target whose workspace entry replaces a global one: which id, which file, where it connects. */
export function shadowNotice(server: ResolvedServer): Notice | undefined {
  if (!server.shadows) return undefined;
  const moved = server.shadows.host !== server.host || server.shadows.port !== server.port;
  return {
    code: "W_SERVER_SHADOWED",
    message: `server "${server.id}" comes from the workspace (${server.at}), replacing the global entry (${server.shadows.at}): connecting to ${server.host}:${server.port}${moved ? `, not ${server.shadows.host}:${server.shadows.port}` : ""}`,
  };
}

/** `*` and `?` globs over ids. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** Resolves `id`, `a,b`, `web*`, `@tag` (mixable with commas) against the inventory. */
export function resolveTargets(inventory: Inventory, spec: string): ResolvedServer[] {
  const parts = spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError("No target given", { code: "E_TARGET", hint: 'Name a server id, a list "a,b", a glob "web*" or a tag "@prod"' });
  const picked = new Set<string>();
  for (const part of parts) {
    let matches: ResolvedServer[];
    if (part.startsWith("@")) {
      const tag = part.slice(1);
      matches = inventory.servers.filter((s) => s.tags.includes(tag));
      if (matches.length === 0) {
        const tags = [...new Set(inventory.servers.flatMap((s) => s.tags))];
        const guess = closest(tag, tags);
        throw new UsageError(`No server has tag "${tag}"${guess ? `, did you mean "@${guess}"?` : ""}`, { code: "E_TARGET", hint: tags.length ? `Tags: ${tags.map((t) => "@" + t).join(", ")}` : "No server has tags yet" });
      }
    } else if (/[*?]/.test(part)) {
      const re = globToRegExp(part);
      matches = inventory.servers.filter((s) => re.test(s.id));
      if (matches.length === 0) throw new UsageError(`No server id matches "${part}"`, { code: "E_TARGET", hint: `"opsterm servers list" shows the ids` });
    } else {
      const server = inventory.byId.get(part);
      if (!server) {
        const guess = closest(part, [...inventory.byId.keys()]);
        throw new UsageError(`Unknown server "${part}"${guess ? `, did you mean "${guess}"?` : ""}`, {
          code: "E_TARGET",
          hint: inventory.servers.length ? `"opsterm servers list" shows the ids` : `Add one with "opsterm servers add <id> <host>" or "opsterm servers import-ssh-config"`,
        });
      }
      matches = [server];
    }
    for (const m of matches) picked.add(m.id);
  }
  return inventory.servers.filter((s) => picked.has(s.id));
}
