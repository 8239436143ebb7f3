/**
 * `opsterm export FILE` / `opsterm import FILE`: the global config.yaml, servers.yaml,
 * workflows.yaml and policy.yaml in one JSON document. API keys written literally in config.yaml
 * never go in: secrets travel only inside the vault, encrypted as it is (`--include-secrets`).
 *
 * Import adds what is missing: config values and servers by key, the other files when absent.
 * Anything that differs from what is here is a conflict: nothing is written unless `--force`, which
 * replaces it (a replaced file is kept as FILE.bak).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, DataError, UsageError, type CommandContext } from "../../src/kernel/index.ts";

const FORMAT = "opsterm-bundle";
const FILES = ["config.yaml", "servers.yaml", "workflows.yaml", "policy.yaml"] as const;
type BundleFile = (typeof FILES)[number];

export interface Bundle {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  opsterm: string;
  files: Partial<Record<BundleFile, string>>;
  /** vault.enc, base64 (only with --include-secrets). */
  vault?: string;
  /** Config keys whose literal values were left out. */
  secretsLeftOut: string[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const isRef = (v: unknown) => typeof v === "string" && /^\$\{vault:[A-Za-z0-9_.-]{1,128}\}$/.test(v.trim());

/** Config keys that hold an API key (in opsterm's and the original's spelling). */
function secretKeys(data: Obj): string[][] {
  const keys: string[][] = [];
  for (const [name, raw] of Object.entries(obj(data.providers))) {
    for (const field of ["apiKey", "api_key"]) if (typeof obj(raw)[field] === "string" && obj(raw)[field] !== "") keys.push(["providers", name, field]);
  }
  if (typeof obj(data.ai).api_key === "string" && obj(data.ai).api_key !== "") keys.push(["ai", "api_key"]);
  return keys;
}

export async function runExport(ctx: CommandContext, file: string, options: { includeSecrets: boolean; force: boolean }): Promise<number> {
  const target = resolve(ctx.runtime.cwd(), file);
  if (existsSync(target) && !options.force) throw new UsageError(`${target} exists`, { code: "E_BUNDLE_EXISTS" });
  const vault = ctx.tryUse("vault");
  const vaultPath = join(ctx.paths.configDir, "vault.enc");
  if (options.includeSecrets && !(vault && (await vault.exists()))) {
    throw new ConfigError("E_BUNDLE_SECRETS", "--include-secrets needs the vault: secrets leave this machine only encrypted");
  }
  const { readBounded, READ_LIMITS } = await import("../../src/lib/bounded-read.ts");
  const { parseYamlText } = await import("../../src/lib/yaml-file.ts");
  const bundle: Bundle = { format: FORMAT, version: 1, createdAt: new Date().toISOString(), opsterm: ctx.kernel.version, files: {}, secretsLeftOut: [] };
  for (const name of FILES) {
    const path = join(ctx.paths.configDir, name);
    const text = readBounded(path, { maxBytes: READ_LIMITS.yaml, errorClass: DataError, what: "state files" })?.toString("utf8");
    if (text === undefined) continue;
    if (name === "config.yaml") {
      const parsed = await parseYamlText(path, text, ConfigError);
      const doc = parsed.doc;
      for (const key of secretKeys(obj(parsed.data))) {
        if (isRef(doc.getIn(key))) continue;
        doc.deleteIn(key);
        bundle.secretsLeftOut.push(key.join("."));
      }
      bundle.files[name] = bundle.secretsLeftOut.length ? doc.toString() : text;
    } else bundle.files[name] = text;
  }
  if (options.includeSecrets) bundle.vault = readFileSync(vaultPath).toString("base64");
  const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
  await atomicWrite(target, JSON.stringify(bundle, null, 2) + "\n", { mode: 0o600 });
  const names = Object.keys(bundle.files);
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ file: target, files: names, vault: Boolean(bundle.vault), secretsLeftOut: bundle.secretsLeftOut }));
    return 0;
  }
  ctx.io.out(`Wrote ${target}: ${names.length ? names.join(", ") : "no files (nothing configured yet)"}${bundle.vault ? ", vault.enc (encrypted)" : ""}`);
  if (bundle.secretsLeftOut.length) {
    ctx.io.out(ctx.io.style.dim(`  left out (API keys written in config.yaml): ${bundle.secretsLeftOut.join(", ")}; keep keys in the vault to carry them with --include-secrets`));
  }
  return 0;
}

interface Change {
  what: string;
  kind: "add" | "same" | "conflict";
  detail?: string;
}

export async function runImport(ctx: CommandContext, file: string, options: { dryRun: boolean; force: boolean }): Promise<number> {
  const source = resolve(ctx.runtime.cwd(), file);
  const bundle = await readBundle(source);
  const dir = ctx.paths.configDir;
  const { parseYamlText, readYamlFile } = await import("../../src/lib/yaml-file.ts");
  const changes: Change[] = [];

  // config.yaml: leaf by leaf.
  const configLeaves: { path: string[]; value: unknown; replace: boolean }[] = [];
  if (bundle.files["config.yaml"] !== undefined) {
    const incoming = obj((await parseYamlText(`${source}#config.yaml`, bundle.files["config.yaml"], DataError)).data);
    const current = obj((await readYamlFile(join(dir, "config.yaml"), ConfigError))?.data);
    for (const [path, value] of leaves(incoming)) {
      const here = getIn(current, path);
      if (here === undefined) {
        changes.push({ what: `config ${path.join(".")}`, kind: "add" });
        configLeaves.push({ path, value, replace: false });
      } else if (JSON.stringify(here) === JSON.stringify(value)) changes.push({ what: `config ${path.join(".")}`, kind: "same" });
      else {
        changes.push({ what: `config ${path.join(".")}`, kind: "conflict", detail: "differs" });
        configLeaves.push({ path, value, replace: true });
      }
    }
  }
  // servers.yaml: by id.
  const serverEntries: { id: string; entry: Obj; replace: boolean }[] = [];
  if (bundle.files["servers.yaml"] !== undefined) {
    const incoming = obj(obj((await parseYamlText(`${source}#servers.yaml`, bundle.files["servers.yaml"], DataError)).data).servers);
    const current = obj(obj((await readYamlFile(join(dir, "servers.yaml"), ConfigError))?.data).servers);
    for (const [id, entry] of Object.entries(incoming)) {
      if (!(id in current)) {
        changes.push({ what: `server ${id}`, kind: "add" });
        serverEntries.push({ id, entry: obj(entry), replace: false });
      } else if (JSON.stringify(current[id]) === JSON.stringify(entry)) changes.push({ what: `server ${id}`, kind: "same" });
      else {
        changes.push({ what: `server ${id}`, kind: "conflict", detail: "differs" });
        serverEntries.push({ id, entry: obj(entry), replace: true });
      }
    }
  }
  // Whole files: workflows.yaml, policy.yaml, vault.enc.
  const wholeFiles: { name: string; data: Buffer; replace: boolean }[] = [];
  const whole = (name: string, data: Buffer | undefined) => {
    if (data === undefined) return;
    const path = join(dir, name);
    if (!existsSync(path)) {
      changes.push({ what: name, kind: "add" });
      wholeFiles.push({ name, data, replace: false });
    } else if (readFileSync(path).equals(data)) changes.push({ what: name, kind: "same" });
    else {
      changes.push({ what: name, kind: "conflict", detail: "differs" });
      wholeFiles.push({ name, data, replace: true });
    }
  };
  for (const name of ["workflows.yaml", "policy.yaml"] as const) {
    const text = bundle.files[name];
    if (text === undefined) continue;
    await parseYamlText(`${source}#${name}`, text, DataError);
    whole(name, Buffer.from(text, "utf8"));
  }
  if (bundle.vault !== undefined) whole("vault.enc", Buffer.from(bundle.vault, "base64"));

  const conflicts = changes.filter((c) => c.kind === "conflict");
  if (conflicts.length && !options.force && !options.dryRun) {
    throw new UsageError(`${conflicts.length} item(s) in ${source} differ from what is here: ${conflicts.map((c) => c.what).join(", ")}; nothing was written`, { code: "E_BUNDLE_CONFLICT" });
  }
  if (!options.dryRun) {
    const take = <T extends { replace: boolean }>(list: T[]) => list.filter((x) => options.force || !x.replace);
    const leavesToSet = take(configLeaves);
    if (leavesToSet.length) {
      const { editConfigFile } = await import("../../src/lib/config-edit.ts");
      const path = join(dir, "config.yaml");
      if (options.force && existsSync(path) && leavesToSet.some((l) => l.replace)) await backup(path);
      await editConfigFile(path, ctx.configSchema(), ({ doc }) => {
        for (const l of leavesToSet) doc.setIn(l.path, doc.createNode(l.value));
      });
    }
    const serversToSet = take(serverEntries);
    if (serversToSet.length) {
      const path = join(dir, "servers.yaml");
      if (options.force && existsSync(path) && serversToSet.some((s) => s.replace)) await backup(path);
      await ctx.use("inventory").addServers(serversToSet.map((s) => ({ id: s.id, entry: s.entry })), { replace: options.force });
    }
    const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
    for (const f of take(wholeFiles)) {
      const path = join(dir, f.name);
      if (f.replace) await backup(path);
      await atomicWrite(path, f.data, { mode: 0o600 });
    }
  }
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ file: source, dryRun: options.dryRun, force: options.force, changes, secretsLeftOut: bundle.secretsLeftOut }));
    return 0;
  }
  const s = ctx.io.style;
  const sign = { add: s.green("+"), same: s.dim("="), conflict: s.yellow("!") };
  ctx.io.out(`${options.dryRun ? "Dry run: nothing is written. " : ""}Importing ${source} ${s.dim(`(exported ${bundle.createdAt} by opsterm ${bundle.opsterm})`)}`);
  for (const c of changes) if (c.kind !== "same") ctx.io.out(`  ${sign[c.kind]} ${c.what}${c.kind === "conflict" ? (options.force ? " (replaced; old file kept as .bak)" : " differs (needs --force)") : ""}`);
  const unchanged = changes.filter((c) => c.kind === "same").length;
  if (unchanged) ctx.io.out(s.dim(`  ${unchanged} item(s) already the same`));
  if (!changes.some((c) => c.kind !== "same")) ctx.io.out("Nothing to do: everything in the bundle is already here.");
  if (bundle.secretsLeftOut.length) ctx.io.out(s.dim(`  the bundle has no values for ${bundle.secretsLeftOut.join(", ")}: set them with opsterm provider add NAME --api-key -`));
  return 0;
}

async function readBundle(path: string): Promise<Bundle> {
  const { readBounded } = await import("../../src/lib/bounded-read.ts");
  const bytes = readBounded(path, { maxBytes: 64 * 1024 * 1024, errorClass: DataError, what: "bundles" });
  if (bytes === undefined) throw new UsageError(`${path} does not exist`, { code: "E_BUNDLE_FORMAT" });
  let data: Obj;
  try {
    data = obj(JSON.parse(bytes.toString("utf8")));
  } catch {
    throw new DataError("E_BUNDLE_FORMAT", `${path} is not an opsterm export bundle (not JSON)`);
  }
  if (data.format !== FORMAT || data.version !== 1 || typeof data.files !== "object" || data.files === null) {
    throw new DataError("E_BUNDLE_FORMAT", `${path} is not an opsterm export bundle (format ${JSON.stringify(data.format ?? null)}, version ${JSON.stringify(data.version ?? null)})`);
  }
  const files = obj(data.files);
  for (const [name, text] of Object.entries(files)) {
    if (!(FILES as readonly string[]).includes(name) || typeof text !== "string") throw new DataError("E_BUNDLE_FORMAT", `${path}: unexpected entry "${name}" in files`);
  }
  if (data.vault !== undefined && (typeof data.vault !== "string" || !/^[A-Za-z0-9+/=\s]*$/.test(data.vault))) throw new DataError("E_BUNDLE_FORMAT", `${path}: vault is not base64`);
  return { format: FORMAT, version: 1, createdAt: String(data.createdAt ?? "?"), opsterm: String(data.opsterm ?? "?"), files: files as Bundle["files"], vault: data.vault as string | undefined, secretsLeftOut: Array.isArray(data.secretsLeftOut) ? data.secretsLeftOut.map(String) : [] };
}

async function backup(path: string): Promise<void> {
  const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
  await atomicWrite(`${path}.bak`, readFileSync(path), { mode: 0o600 });
}

/** Leaves of a config mapping; lists and empty mappings are leaves. */
function leaves(data: Obj, prefix: string[] = []): [string[], unknown][] {
  return Object.entries(data).flatMap(([k, v]) => {
    const path = [...prefix, k];
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0 ? leaves(v as Obj, path) : [[path, v] as [string[], unknown]];
  });
}

function getIn(data: Obj, path: string[]): unknown {
  let node: unknown = data;
  for (const k of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Obj)[k];
  }
  return node;
}
