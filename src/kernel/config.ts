/**
 * Layered config: global `config.yaml` and the trusted workspace's `.opsterm/config.yaml`
 * (workspace wins, except for `globalOnly` keys, which a workspace cannot set). Every leaf
 * remembers the file and line it came from, for `config list`.
 */
import { ConfigError } from "./errors.ts";
import type { Paths } from "./paths.ts";
import { stateFiles, type Notice } from "./workspace.ts";
import { validate, type SchemaNode } from "../lib/schema.ts";
import { locate, readYamlFile, schemaError, type YamlFile } from "../lib/yaml-file.ts";

export type Scope = "global" | "workspace";

export interface ConfigSource {
  scope: Scope;
  path: string;
  exists: boolean;
}

export interface ConfigValueOrigin {
  key: string;
  value: unknown;
  scope: Scope;
  /** file:line:col */
  at: string;
  /** The same key from a lower scope that this value hides. */
  shadows?: { scope: Scope; at: string; value: unknown };
}

export interface LoadedConfig {
  /** Merged values, workspace over global. */
  values: Record<string, unknown>;
  sources: ConfigSource[];
  origins: ConfigValueOrigin[];
  /** Workspace values of global-only keys, which were left out. */
  ignored: { key: string; at: string }[];
  /** Value at a dotted key, e.g. `get("ai.model")`. */
  get(key: string): unknown;
  /**
   * Which file the value in effect at a dotted key comes from (for a mapping: the scope of any
   * value under it that the workspace sets, else global). Undefined when nothing sets it.
   */
  scopeOf(key: string): Scope | undefined;
}

/** config.yaml globally and, when the workspace is trusted, in its .opsterm/ (with its pinned hash). */
export function configFiles(paths: Paths): (ConfigSource & { pinned?: string | null })[] {
  return stateFiles(paths, "config.yaml").map((f) => ({ ...f, exists: false }));
}

export async function loadConfig(paths: Paths, schema: SchemaNode): Promise<LoadedConfig> {
  const sources = configFiles(paths);
  const values: Record<string, unknown> = {};
  const origins = new Map<string, ConfigValueOrigin>();
  const ignored: LoadedConfig["ignored"] = [];
  for (const source of sources) {
    const file = await readYamlFile(source.path, ConfigError, { pinned: source.pinned });
    if (!file) continue;
    source.exists = true;
    if (file.data === null || typeof file.data !== "object" || Array.isArray(file.data)) {
      throw new ConfigError("E_SCHEMA", `${source.path}:1:1: the file must be a mapping of keys to values`, {
        hint: 'Write top-level keys, e.g. "ai:" then "  model: gpt-4o-mini" on the next line; "opsterm config set <key> <value>" writes one for you',
      });
    }
    const issues = validate(file.data, schema);
    if (issues.length > 0) throw schemaError(file, issues, ConfigError, `Fix ${source.path}; "opsterm config list" shows valid keys and where values come from`);
    if (source.scope === "workspace") ignored.push(...dropGlobalOnly(file, schema));
    for (const [key, value] of leaves(file.data as Record<string, unknown>)) {
      const previous = origins.get(key);
      origins.set(key, {
        key,
        value,
        scope: source.scope,
        at: locate(file, key.split(".")),
        shadows: previous ? { scope: previous.scope, at: previous.at, value: previous.value } : undefined,
      });
    }
    deepMerge(values, file.data as Record<string, unknown>);
  }
  const sorted = [...origins.values()].sort((a, b) => a.key.localeCompare(b.key));
  return {
    values,
    sources: sources.map(({ scope, path, exists }) => ({ scope, path, exists })),
    origins: sorted,
    ignored,
    get: (key) => getPath(values, key.split(".")),
    scopeOf(key) {
      const under = sorted.filter((o) => o.key === key || o.key.startsWith(key + "."));
      if (under.length === 0) return undefined;
      return under.some((o) => o.scope === "workspace") ? "workspace" : "global";
    },
  };
}

/** One notice for the global-only keys a workspace tried to set. */
export function ignoredNotice(ignored: LoadedConfig["ignored"]): Notice | undefined {
  if (ignored.length === 0) return undefined;
  const list = ignored.map((i) => `${i.key} (${i.at})`).join(", ");
  return {
    code: "W_WORKSPACE_GLOBAL_ONLY",
    message: `ignored workspace setting${ignored.length === 1 ? "" : "s"} that only the global config may hold: ${list}`,
    hint: "Commands, host-key trust and key sources are global-only: set them with opsterm config set (without --workspace)",
  };
}

/** Removes (in place) the values of global-only keys from a workspace file's data; returns where they were. */
function dropGlobalOnly(file: YamlFile, schema: SchemaNode): LoadedConfig["ignored"] {
  const found: LoadedConfig["ignored"] = [];
  const walk = (node: Record<string, unknown>, at: SchemaNode, path: string[]) => {
    if (at.type !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      const sub = at.properties?.[key] ?? at.additional;
      if (!sub) continue;
      if (sub.globalOnly) {
        found.push({ key: [...path, key].join("."), at: locate(file, [...path, key], true) });
        delete node[key];
      } else if (isPlainObject(value) && Object.keys(value).length > 0) {
        walk(value, sub, [...path, key]);
        // A mapping that held only global-only keys is gone, not an empty override.
        if (Object.keys(value).length === 0) delete node[key];
      }
    }
  };
  walk(file.data as Record<string, unknown>, schema, []);
  return found;
}

/** Flattens to dotted keys; lists are leaves (a workspace list replaces a global one). */
function leaves(obj: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) && Object.keys(v).length > 0 ? leaves(v, key) : [[key, v] as [string, unknown]];
  });
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    if (isPlainObject(v) && isPlainObject(target[k])) deepMerge(target[k] as Record<string, unknown>, v);
    else target[k] = isPlainObject(v) ? structuredClone(v) : v;
  }
}

function getPath(obj: unknown, path: string[]): unknown {
  let node = obj;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
