/**
 * `opsterm migrate`: reads the original OpsTerm's folder (never writes it), works out what is not
 * in opsterm yet, and adds that: API keys into the vault first (so a refused passphrase changes
 * nothing), then config.yaml, servers.yaml, workflows.yaml and the history.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, UsageError, type CommandContext, type OpstermServices } from "../../src/kernel/index.ts";
import { findOriginal, migrationState, originalAt, writeMarker, type OriginalFolder } from "./detect.ts";
import { historyRecord, planConfig, planServers, type ConfigPlan, type HistoryRecord, type ServersPlan } from "./convert.ts";
import { readLegacyYaml, readOriginalHistory } from "./read.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});

interface WorkflowsPlan {
  action: "copy" | "same" | "conflict" | "none";
  from?: string;
  to: string;
  /** Rewritten as standard YAML because the original's file was not. */
  rewritten?: boolean;
  text?: string;
}

interface KeyOutcome {
  provider: string;
  where: "vault" | "config";
  vaultName?: string;
}

export interface MigrateOptions {
  dryRun: boolean;
  from?: string;
}

const tilde = (path: string, home: string) => (path === home ? "~" : path.startsWith(home + "/") ? "~" + path.slice(home.length) : path);

export async function runMigrate(ctx: CommandContext, options: MigrateOptions): Promise<number> {
  const home = ctx.paths.home;
  let folder: OriginalFolder | undefined;
  if (options.from !== undefined) {
    const dir = resolve(ctx.runtime.cwd(), options.from.replace(/^~(?=$|\/)/, home));
    folder = originalAt(dir, "--from");
    if (!folder) throw new UsageError(`${dir} holds none of the original OpsTerm's files (config.yaml, servers.yaml, workflows.yaml, history.db)`, { code: "E_MIGRATE_SOURCE" });
  } else folder = findOriginal(ctx.env, home, ctx.paths.configDir);
  if (!folder) {
    if (ctx.json) ctx.io.out(JSON.stringify({ found: false, looked: [ctx.env.OPSTERM_DIR, join(home, ".opsterm"), join(home, ".ai-workflows")].filter(Boolean) }));
    else ctx.io.out("No original OpsTerm folder found ($OPSTERM_DIR, ~/.opsterm, ~/.ai-workflows): nothing to migrate. Point at one with --from DIR.");
    return 0;
  }
  if (resolve(folder.dir) === resolve(ctx.paths.configDir)) {
    throw new UsageError(`${folder.dir} is opsterm's own config folder (OPSTERM_HOME)`, { code: "E_MIGRATE_SOURCE", hint: "opsterm reads the original's config.yaml there as it is; migrate from another folder with --from" });
  }
  const dir = folder.dir;
  const configPath = join(ctx.paths.configDir, "config.yaml");
  const serversPath = join(ctx.paths.configDir, "servers.yaml");
  const workflowsPath = join(ctx.paths.configDir, "workflows.yaml");
  const { readYamlFile } = await import("../../src/lib/yaml-file.ts");

  // What the original has.
  const oldConfig = await readLegacyYaml(join(dir, "config.yaml"));
  const oldServers = await readLegacyYaml(join(dir, "servers.yaml"));
  const rows = await readOriginalHistory(join(dir, "history.db"));

  // What opsterm has (its global files only: a workspace is not where a migration goes).
  const currentConfig = obj((await readYamlFile(configPath, ConfigError))?.data);
  const currentServers = obj(obj((await readYamlFile(serversPath, ConfigError))?.data).servers);

  const config: ConfigPlan | undefined = oldConfig ? planConfig(obj(oldConfig.data), currentConfig) : undefined;
  const servers: ServersPlan | undefined = oldServers ? planServers(oldServers.data, currentServers) : undefined;
  const workflows = await planWorkflows(join(dir, "workflows.yaml"), workflowsPath);
  const hash = (text: string) => createHash("sha256").update(text).digest("base64url").slice(0, 22);
  const history: HistoryRecord[] = rows.map((r) => historyRecord(r, hash));
  const vault = ctx.tryUse("vault");
  const vaultExists = Boolean(vault && (await vault.exists()));
  const state = migrationState(ctx.paths.dataDir, dir);

  // Apply.
  const keys: KeyOutcome[] = [];
  let historyAdded: number | undefined;
  let serversPath_: string | undefined;
  if (!options.dryRun) {
    const keyValues = new Map<string, string>();
    for (const p of config?.providers ?? []) {
      if (!p.apiKey) continue;
      if (vault && vaultExists) {
        const name = await freeVaultName(vault, p.name, p.apiKey);
        if (name.store) await vault.set([{ name: name.name, value: p.apiKey, note: `API key of provider ${p.name} (from the original OpsTerm)` }]);
        keyValues.set(p.name, `\${vault:${name.name}}`);
        keys.push({ provider: p.name, where: "vault", vaultName: name.name });
      } else {
        keyValues.set(p.name, p.apiKey);
        keys.push({ provider: p.name, where: "config" });
      }
    }
    if (config && (config.providers.length || config.values.length)) {
      const { editConfigFile } = await import("../../src/lib/config-edit.ts");
      await editConfigFile(configPath, ctx.configSchema(), ({ doc }) => {
        if (!doc.hasIn(["providers"]) || doc.getIn(["providers"]) === null) doc.set("providers", doc.createNode({}));
        for (const p of config.providers) {
          const entry: Obj = { ...p.entry };
          const key = keyValues.get(p.name);
          if (key) entry.apiKey = key;
          doc.setIn(["providers", p.name], doc.createNode(entry));
        }
        for (const v of config.values) doc.setIn(v.key.split("."), v.value);
      });
    }
    if (servers && servers.add.length) {
      const result = await ctx.use("inventory").addServers(servers.add.map((s) => ({ id: s.id, entry: s.entry })));
      serversPath_ = result.path;
    }
    if (workflows.action === "copy") {
      const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
      await atomicWrite(workflowsPath, workflows.text!, { mode: 0o600 });
    }
    if (history.length) historyAdded = (await ctx.use("history").importEvents(history)).added;
    await writeMarker(ctx.paths.dataDir, dir);
  }

  const changed = Boolean(config?.providers.length || config?.values.length || servers?.add.length || workflows.action === "copy" || (options.dryRun ? history.length && state !== "done" : historyAdded));
  if (ctx.json) {
    ctx.io.out(
      JSON.stringify({
        found: true,
        from: dir,
        via: folder.via,
        dryRun: options.dryRun,
        changed,
        config: config && {
          file: configPath,
          providers: config.providers.map((p) => ({ name: p.name, ...p.entry, key: p.apiKey ? (keys.find((k) => k.provider === p.name) ?? { where: options.dryRun ? (vaultExists ? "vault" : "config") : null }) : null })),
          values: config.values.map((v) => ({ key: v.key, value: v.value, from: v.from })),
          same: config.same,
          conflicts: config.conflicts,
          unused: config.unused,
          notes: config.notes,
        },
        servers: servers && { file: serversPath_ ?? serversPath, add: servers.add, same: servers.same, conflicts: servers.conflicts, skipped: servers.skipped, notes: servers.notes },
        workflows: { action: workflows.action, from: workflows.from ?? null, to: workflows.to, rewritten: Boolean(workflows.rewritten) },
        history: { rows: rows.length, added: historyAdded ?? null },
      }),
    );
    return 0;
  }

  const s = ctx.io.style;
  const out = (text: string) => ctx.io.out(text);
  out(`${options.dryRun ? "Dry run: nothing is written. " : ""}Migrating from ${s.bold(tilde(dir, home))} ${s.dim(`(${folder.via})`)}`);
  if (!changed && !options.dryRun) {
    out(`Nothing to do: everything from ${tilde(dir, home)} is already in opsterm${config?.conflicts.length || servers?.conflicts.length || workflows.action === "conflict" ? " (or differs there and was kept: opsterm migrate --dry-run lists it)" : ""}.`);
    return 0;
  }
  const add = s.green("+");
  const same = s.dim("=");
  const kept = s.yellow("!");
  const skip = s.dim("-");
  if (config) {
    out(s.bold("config") + s.dim(`  → ${tilde(configPath, home)}`));
    for (const p of config.providers) {
      const k = keys.find((x) => x.provider === p.name);
      const where = p.apiKey ? (k ? (k.where === "vault" ? `key in the vault as ${k.vaultName}` : "key in config.yaml (0600)") : vaultExists ? "key → the vault" : "key → config.yaml (0600)") : "no API key";
      out(`  ${add} provider ${p.name}: ${p.entry.baseUrl ?? "(preset URL)"}, ${p.entry.model ?? "(preset model)"}; ${where}`);
    }
    for (const v of config.values) out(`  ${add} ${v.key} = ${typeof v.value === "string" && v.value.length > 60 ? JSON.stringify(v.value.slice(0, 57) + "...") : JSON.stringify(v.value)} ${s.dim(`(from ${v.from})`)}`);
    for (const name of config.same) out(`  ${same} provider ${name} is already there`);
    for (const c of config.conflicts) out(`  ${kept} ${c.text}`);
    for (const n of config.notes) out(`  ${s.dim("·")} ${n.key}: ${n.text}`);
    for (const u of config.unused) out(`  ${skip} not used: ${u.key}: ${u.text}`);
    if (!vaultExists && config.providers.some((p) => p.apiKey)) {
      out(
        s.dim(
          options.dryRun
            ? "  there is no vault, so API keys would go into config.yaml (mode 0600); to keep them encrypted, run opsterm vault init first"
            : "  there is no vault, so API keys are in config.yaml (mode 0600); to encrypt one: opsterm vault init, then opsterm provider add NAME --api-key - (key on stdin)",
        ),
      );
    }
  }
  if (servers) {
    out(s.bold("servers") + s.dim(`  → ${tilde(serversPath, home)}`));
    for (const a of servers.add) {
      const e = a.entry as { host: string; user: string; port?: number; proxy?: string | string[] };
      out(`  ${add} ${a.id}: ${e.user}@${e.host}${e.port ? `:${e.port}` : ""}${e.proxy ? ` via ${[e.proxy].flat().join(",")}` : ""}`);
    }
    for (const id of servers.same) out(`  ${same} ${id} is already there`);
    for (const c of servers.conflicts) out(`  ${kept} ${c.text}`);
    for (const n of servers.notes) out(`  ${s.dim("·")} ${n.text}`);
    for (const k of servers.skipped) out(`  ${skip} skipped ${k.key}: ${k.text}`);
  }
  if (workflows.action !== "none") {
    out(s.bold("workflows") + s.dim(`  → ${tilde(workflows.to, home)}`));
    if (workflows.action === "copy") out(`  ${add} ${options.dryRun ? "copy" : "copied"} ${tilde(workflows.from!, home)}${workflows.rewritten ? " (rewritten as standard YAML)" : ""}; run one with opsterm run NAME`);
    if (workflows.action === "same") out(`  ${same} already there`);
    if (workflows.action === "conflict") out(`  ${kept} ${tilde(workflows.to, home)} exists and differs: kept it; compare with ${tilde(workflows.from!, home)}`);
  }
  if (rows.length) {
    out(s.bold("history") + s.dim(`  → ${tilde(join(ctx.paths.dataDir, "history.db"), home)}`));
    if (options.dryRun) out(`  ${add} ${rows.length} entr${rows.length === 1 ? "y" : "ies"} to import${state === "done" ? " (imported before: none new)" : " (ones imported before are skipped)"}`);
    else if (historyAdded) out(`  ${add} ${historyAdded} entr${historyAdded === 1 ? "y" : "ies"} imported; opsterm history shows them`);
    else out(`  ${same} all ${rows.length} entries are already there`);
  }
  out(s.dim(`${tilde(dir, home)} was not changed${options.dryRun ? "" : "; once you are happy, you may delete it"}.`));
  return 0;
}

async function planWorkflows(from: string, to: string): Promise<WorkflowsPlan> {
  if (!existsSync(from)) return { action: "none", to };
  const { readBounded, READ_LIMITS } = await import("../../src/lib/bounded-read.ts");
  const { DataError } = await import("../../src/kernel/index.ts");
  const text = readBounded(from, { maxBytes: READ_LIMITS.yaml, errorClass: DataError, what: "the original OpsTerm's YAML files" })?.toString("utf8") ?? "";
  const parsed = await readLegacyYaml(from);
  let wanted = text;
  let rewritten = false;
  if (parsed?.lenient) {
    // Not valid YAML as the original wrote it: what it meant, written so the workflow reader can read it.
    const { loadYaml } = await import("../../src/lib/yaml-file.ts");
    wanted = "# Migrated from the original OpsTerm (rewritten as standard YAML)\n" + (await loadYaml()).stringify(parsed.data);
    rewritten = true;
  }
  if (existsSync(to)) {
    const existing = readFileSync(to, "utf8");
    return { action: existing === wanted || existing === text ? "same" : "conflict", from, to };
  }
  return { action: "copy", from, to, text: wanted, rewritten };
}

/** A vault name for the key: `NAME_api_key`, reused when it holds this very key, else a free variant. */
async function freeVaultName(vault: Pick<OpstermServices["vault"], "list" | "get">, provider: string, key: string): Promise<{ name: string; store: boolean }> {
  const base = `${provider.replace(/[^A-Za-z0-9_.-]/g, "_")}_api_key`;
  const names = new Set((await vault.list()).map((e) => e.name));
  for (let n = 1; n < 100; n++) {
    const name = n === 1 ? base : `${base}_${n}`;
    if (!names.has(name)) return { name, store: true };
    if ((await vault.get(name)) === key) return { name, store: false };
  }
  throw new UsageError(`No free vault name for the key of ${provider}`, { hint: "Remove old entries with opsterm vault rm" });
}
