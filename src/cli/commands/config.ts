/**
 * `opsterm config get|set|list|path`.
 */
import { join } from "node:path";
import { defineCommand, type CommandSpec } from "../../kernel/commands.ts";
import type { CommandContext } from "../../kernel/context.ts";
import { configFiles } from "../../kernel/config.ts";
import { ConfigError, UsageError } from "../../kernel/errors.ts";
import { workspaceWrite } from "../../kernel/workspace.ts";
import { atomicWrite } from "../../lib/atomic-write.ts";
import { withLock } from "../../lib/lock.ts";
import { closest, schemaAt, validate, type SchemaNode } from "../../lib/schema.ts";
import { loadYaml, parseYamlText, readYamlFile, schemaError } from "../../lib/yaml-file.ts";

const SECRET_KEY = /(api_?key|token|secret|password|passphrase)$/i;

/** Values of secret-looking keys are never printed in full. */
function displayValue(key: string, value: unknown): string {
  if (SECRET_KEY.test(key) && typeof value === "string" && value.length > 0) return "********";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const path = defineCommand({
  name: "config path",
  description: "Show where opsterm reads and writes its files, and whether the workspace is trusted",
  async action(_args, ctx) {
    const files = configFiles(ctx.paths);
    const ws = ctx.paths.workspace?.state();
    const facts = {
      configDir: ctx.paths.configDir,
      dataDir: ctx.paths.dataDir,
      workspaceDir: ws?.dir ?? null,
      workspace: ws ? { dir: ws.dir, status: ws.status, reason: ws.reason ?? null } : null,
      files: files.map((f) => f.path),
    };
    if (ctx.json) return void ctx.io.out(JSON.stringify(facts));
    ctx.io.out(`config dir  ${facts.configDir}`);
    ctx.io.out(`data dir    ${facts.dataDir}`);
    ctx.io.out(`workspace   ${ws ? `${ws.dir} (${ws.status === "trusted" ? "trusted" : `${ws.reason}: not read`})` : "(none: no .opsterm/ folder above this directory)"}`);
    for (const f of files) ctx.io.out(`config file ${f.path}`);
  },
});

const list = defineCommand({
  name: "config list",
  description: "Show every set value and the file:line it comes from (workspace wins over global)",
  async action(_args, ctx) {
    const config = await ctx.config();
    const rows = config.origins.map((o) => ({ ...o, value: SECRET_KEY.test(o.key) && o.value ? "********" : o.value, shadows: o.shadows && { ...o.shadows, value: SECRET_KEY.test(o.key) ? "********" : o.shadows.value } }));
    if (ctx.json) return void ctx.io.out(JSON.stringify({ sources: config.sources, values: rows }));
    if (rows.length === 0) {
      ctx.io.out(`No values set. Files read: ${config.sources.map((s) => `${s.path}${s.exists ? "" : " (missing)"}`).join(", ")}`);
      ctx.io.out(`Set one with: opsterm config set <key> <value>`);
      return;
    }
    const s = ctx.io.style;
    const width = Math.min(32, Math.max(...rows.map((r) => r.key.length)));
    for (const r of rows) {
      ctx.io.out(`${r.key.padEnd(width)}  ${displayValue(r.key, r.value)}  ${s.dim(`${r.scope} ${r.at}`)}${r.shadows ? s.dim(` (overrides ${r.shadows.scope} ${r.shadows.at})`) : ""}`);
    }
  },
});

const get = defineCommand({
  name: "config get",
  groupDescription: "Read and change settings",
  description: "Print one value (exit 1 when it is not set)",
  usage: "<key>",
  examples: ["opsterm config get ai.model"],
  async action(args, ctx) {
    const key = String(args.key);
    checkKey(ctx, key);
    const config = await ctx.config();
    const value = config.get(key);
    if (value === undefined) {
      // Exit 1 is the answer ("not set"), as git config does; with --json it is said on stdout too.
      if (ctx.json) ctx.io.out(JSON.stringify({ key, value: null, set: false }));
      return 1;
    }
    if (ctx.json) ctx.io.out(JSON.stringify({ key, value, origin: config.origins.find((o) => o.key === key || o.key.startsWith(key + "."))?.at }));
    else ctx.io.out(typeof value === "object" ? JSON.stringify(value) : String(value));
  },
});

const set = defineCommand({
  name: "config set",
  description: "Set one value in the global config (or the workspace's with --workspace)",
  usage: "<key> [value]",
  options: [
    { flags: "--workspace", description: "Write to .opsterm/config.yaml of this project instead of the global file" },
    { flags: "--unset", description: "Remove the key instead (no value)" },
  ],
  examples: ["opsterm config set ai.model gpt-4o-mini", "opsterm config set ai.temperature 0.2 --workspace", "opsterm config set ai.temperature --unset"],
  async action(args, ctx) {
    const key = String(args.key);
    const node = checkKey(ctx, key);
    if (args.workspace && isGlobalOnly(ctx.configSchema(), key)) {
      throw new UsageError(`"${key}" can only be set in the global config: a workspace's value would be ignored`, {
        code: "E_CONFIG_GLOBAL_ONLY",
        hint: `Leave out --workspace: opsterm config set ${key} …`,
      });
    }
    const target = args.workspace ? workspaceWrite(ctx.paths, ctx.runtime.cwd()) : undefined;
    const file = join(target?.dir ?? ctx.paths.configDir, "config.yaml");
    if (args.unset && args.value !== undefined) throw new UsageError(`config set: give a value or --unset, not both`, { hint: `opsterm config set ${key} --unset` });
    if (!args.unset && args.value === undefined) throw new UsageError(`config set: missing the value for "${key}"`, { hint: `opsterm config set ${key} <value>, or --unset to remove it` });
    const value = args.unset ? undefined : coerce(String(args.value), node, key);
    let absent = false;
    await withLock(file, async () => {
      const YAML = await loadYaml();
      const existing = await readYamlFile(file, ConfigError);
      const doc = existing?.doc ?? new YAML.Document({});
      if (args.unset) {
        const path = key.split(".");
        // Unsetting what is not set (its section absent too) changes nothing and writes nothing.
        if (!hasKey(doc, path)) {
          absent = true;
          return;
        }
        doc.deleteIn(path);
        // Drop mappings the removal left empty (`ai: {}`), innermost first.
        for (let n = path.length - 1; n > 0; n--) {
          const parent = doc.getIn(path.slice(0, n)) as { items?: unknown[] } | undefined;
          if (parent && Array.isArray(parent.items) && parent.items.length === 0) doc.deleteIn(path.slice(0, n));
          else break;
        }
      } else doc.setIn(key.split("."), value);
      const text = doc.toString();
      // Validate what would be written, with positions in the new text, before replacing the file.
      const parsed = await parseYamlText(file, text, ConfigError);
      const issues = validate(parsed.data, ctx.configSchema());
      if (issues.length) throw schemaError(parsed, issues, ConfigError, "Nothing was written");
      await atomicWrite(file, text);
      const notice = await target?.written(file, text);
      if (notice) ctx.io.notice(notice);
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ key, value: args.unset ? null : value, file, ...(args.unset ? { changed: !absent } : {}) }));
    else if (absent) ctx.io.out(`${key} was not set in ${file}; nothing changed`);
    else ctx.io.out(`${key} = ${args.unset ? "(unset)" : displayValue(key, value)}  ${ctx.io.style.dim(file)}`);
  },
});

/** A key that only the global config may set (itself or any mapping above it). */
function isGlobalOnly(schema: SchemaNode, key: string): boolean {
  const parts = key.split(".");
  return parts.some((_, i) => schemaAt(schema, parts.slice(0, i + 1))?.globalOnly === true);
}


function checkKey(ctx: CommandContext, key: string): SchemaNode {
  const schema = ctx.configSchema();
  const node = schemaAt(schema, key.split("."));
  if (!node) {
    const known = knownKeys(schema);
    const guess = closest(key, known);
    throw new UsageError(`Unknown config key "${key}"${guess ? `, did you mean "${guess}"?` : ""}`, { code: "E_CONFIG_KEY", hint: `Known keys: ${known.slice(0, 12).join(", ")}${known.length > 12 ? ", …" : ""}` });
  }
  return node;
}

function knownKeys(node: SchemaNode, prefix = ""): string[] {
  if (node.type !== "object" || !node.properties) return prefix ? [prefix] : [];
  return Object.entries(node.properties).flatMap(([k, v]) => knownKeys(v, prefix ? `${prefix}.${k}` : k));
}

/** Turns the command-line text into the type the schema wants. */
function coerce(text: string, node: SchemaNode, key: string): unknown {
  const fail = (what: string) =>
    new UsageError(`"${key}" expects ${what}, got "${text}"`, { code: "E_CONFIG_VALUE", hint: `Give ${what}, e.g. opsterm config set ${key} ${what === "a number" ? "1" : "true"}` });
  switch (node.type) {
    case "string":
      return text;
    case "number": {
      const n = Number(text);
      if (text.trim() === "" || Number.isNaN(n)) throw fail("a number");
      return n;
    }
    case "boolean":
      if (/^(true|yes|on|1)$/i.test(text)) return true;
      if (/^(false|no|off|0)$/i.test(text)) return false;
      throw fail("true or false");
    case "array":
      return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => coerce(s, node.items, key));
    default:
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
  }
}

export const configCommands: CommandSpec[] = [get, set, list, path];

/** True when `path` names a key in the document; a missing or scalar section on the way is "no". */
function hasKey(doc: { hasIn(path: unknown[]): boolean; getIn(path: unknown[]): unknown }, path: string[]): boolean {
  for (let n = 1; n < path.length; n++) {
    const section = doc.getIn(path.slice(0, n)) as { items?: unknown } | undefined;
    if (!section || typeof section !== "object" || !Array.isArray(section.items)) return false;
  }
  return doc.hasIn(path);
}
