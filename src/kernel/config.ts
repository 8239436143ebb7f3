/**
 * Layered config: global `config.yaml` and the workspace's `.opsterm/config.yaml` (workspace
 * wins). Every leaf remembers the file and line it came from, for `config list`.
 */
import { join } from "node:path";
import { ConfigError } from "./errors.ts";
import type { Paths } from "./paths.ts";
import { validate, type SchemaNode } from "../lib/schema.ts";
import { locate, readYamlFile, schemaError } from "../lib/yaml-file.ts";

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
  /** Value at a dotted key, e.g. `get("ai.model")`. */
  get(key: string): unknown;
}

export function configFiles(paths: Paths): ConfigSource[] {
  const list: ConfigSource[] = [{ scope: "global", path: join(paths.configDir, "config.yaml"), exists: false }];
  if (paths.workspaceDir) list.push({ scope: "workspace", path: join(paths.workspaceDir, "config.yaml"), exists: false });
  return list;
}

export async function loadConfig(paths: Paths, schema: SchemaNode): Promise<LoadedConfig> {
  const sources = configFiles(paths);
  const values: Record<string, unknown> = {};
  const origins = new Map<string, ConfigValueOrigin>();
  for (const source of sources) {
    const file = await readYamlFile(source.path, ConfigError);
    if (!file) continue;
    source.exists = true;
    if (file.data === null || typeof file.data !== "object" || Array.isArray(file.data)) {
      throw new ConfigError("E_SCHEMA", `${source.path}:1:1: the file must be a mapping of keys to values`, {
        hint: 'Write top-level keys, e.g. "ai:" then "  model: gpt-4o-mini" on the next line; "opsterm config set <key> <value>" writes one for you',
      });
    }
    const issues = validate(file.data, schema);
    if (issues.length > 0) throw schemaError(file, issues, ConfigError, `Fix ${source.path}; "opsterm config list" shows valid keys and where values come from`);
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
  return {
    values,
    sources,
    origins: [...origins.values()].sort((a, b) => a.key.localeCompare(b.key)),
    get: (key) => getPath(values, key.split(".")),
  };
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
