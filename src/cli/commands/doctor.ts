/**
 * `opsterm doctor`: what opsterm sees of this machine and its own files, and what is broken.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { join, delimiter } from "node:path";
import { execFileSync } from "node:child_process";
import { defineCommand } from "../../kernel/commands.ts";
import type { CommandContext } from "../../kernel/context.ts";
import type { DoctorFinding } from "../../kernel/types.ts";
import { configFiles } from "../../kernel/config.ts";
import { fromSystemError, isOpstermError } from "../../kernel/errors.ts";
import { isSingleExecutable } from "../../kernel/runtime.ts";
import { manifestPath, readTrustStore } from "../../kernel/manifest.ts";
import { workspaceStorePath } from "../../kernel/workspace.ts";

/** One row of the report: a plugin's check without its `kind`. */
type Check = Omit<Extract<DoctorFinding, { kind: "check" }>, "kind">;

export const doctorCommand = defineCommand({
  name: "doctor",
  description: "Check config files, runtime, ssh/git and plugin trust; exit 1 when something needed is broken",
  examples: ["opsterm doctor", "opsterm doctor --json | jq .checks"],
  async action(_args, ctx) {
    const checks: Check[] = [];
    const runtime = runtimeFacts(ctx);
    checks.push({ name: "runtime", status: "ok", detail: `${runtime.engine} ${runtime.version} ${runtime.platform}/${runtime.arch}${runtime.singleExecutable ? ", single executable" : ""}` });
    checks.push(...dirChecks(ctx));
    checks.push(...workspaceCheck(ctx));
    checks.push(await configCheck(ctx));
    const findings = await pluginFindings(ctx);
    const files = fileFacts(ctx, findings);
    const tools = ["ssh", "git"].map((name) => toolFacts(ctx, name));
    for (const t of tools) {
      checks.push(
        t.path
          ? { name: t.name, status: "ok", detail: `${t.path}${t.version ? ` (${t.version})` : ""}` }
          : {
              name: t.name,
              status: t.name === "git" ? "fail" : "warn",
              detail: "not found on PATH",
              hint: t.name === "git" ? "Install git: the audit log keeps before/after snapshots of remote file writes in a git repo" : "Install an OpenSSH client: `opsterm ssh` hands interactive sessions to it",
            },
      );
    }
    for (const f of findings) if (f.kind === "check") checks.push({ name: f.name, status: f.status, detail: f.detail, hint: f.hint });
    const plugins = pluginFacts(ctx);
    for (const f of ctx.kernel.failures) checks.push({ name: `plugin ${f.name}`, status: "fail", detail: f.message, hint: f.hint });
    const ok = !checks.some((c) => c.status === "fail");
    if (ctx.json) {
      const paths = { configDir: ctx.paths.configDir, dataDir: ctx.paths.dataDir, home: ctx.paths.home, workspaceDir: ctx.paths.workspace?.dir ?? null };
      ctx.io.out(JSON.stringify({ ok, version: ctx.kernel.version, runtime, paths, files, tools, plugins, checks }));
      return ok ? 0 : 1;
    }
    const s = ctx.io.style;
    const mark = { ok: s.green("ok  "), warn: s.yellow("warn"), fail: s.red("FAIL") };
    ctx.io.out(s.bold(`opsterm ${ctx.kernel.version}`));
    for (const c of checks) {
      ctx.io.out(`  ${mark[c.status]}  ${c.name.padEnd(16)} ${c.detail}`);
      if (c.hint && c.status !== "ok") ctx.io.out(`        ${" ".repeat(16)} ${s.dim(c.hint.replace(/(?<![\w/])docs\/([a-z-]+)\.md/g, '"opsterm help $1"'))}`);
    }
    ctx.io.out(s.bold("files"));
    for (const f of files) ctx.io.out(`  ${f.exists ? s.green("found  ") : s.dim("missing")}  ${f.path}  ${s.dim(f.description)}`);
    ctx.io.out(s.bold("plugins"));
    for (const p of plugins) ctx.io.out(`  ${p.status === "loaded" ? s.green(p.status.padEnd(7)) : s.red(p.status.padEnd(7))}  ${p.name}${p.path ? s.dim(`  ${p.path}`) : ""}`);
    ctx.io.out(ok ? s.green("Everything needed works.") : s.red("Something needed is broken (see FAIL above)."));
    return ok ? 0 : 1;
  },
});

function runtimeFacts(ctx: CommandContext) {
  const v = ctx.runtime.versions;
  const deno = (globalThis as { Deno?: { version?: { deno: string } } }).Deno;
  return {
    engine: deno ? "deno" : "node",
    version: deno?.version?.deno ?? v.node ?? "unknown",
    platform: ctx.runtime.platform,
    arch: ctx.runtime.arch,
    execPath: ctx.runtime.execPath,
    singleExecutable: isSingleExecutable(),
  };
}

/** Checks and files from every plugin's `doctor` hook; a failing hook is a FAIL row, not a crash. */
async function pluginFindings(ctx: CommandContext): Promise<DoctorFinding[]> {
  try {
    return await ctx.hooks.call("doctor");
  } catch (error) {
    const e = error as { message?: string; hint?: string };
    return [{ kind: "check", name: "plugin checks", status: "fail", detail: e.message ?? String(error), hint: e.hint }];
  }
}

function fileFacts(ctx: CommandContext, findings: DoctorFinding[]) {
  const [global, ...workspace] = configFiles(ctx.paths);
  const list = [
    { path: global.path, description: "settings" },
    { path: manifestPath(ctx.paths.configDir), description: "trusted user plugins" },
    { path: workspaceStorePath(ctx.paths.configDir), description: "trusted workspaces" },
    ...workspace.map((f) => ({ path: f.path, description: "workspace settings" })),
    ...findings.flatMap((f) => (f.kind === "file" ? [{ path: f.path, description: f.description }] : [])),
  ];
  const unique = new Map(list.map((f) => [f.path, f.description]));
  return [...unique].map(([path, description]) => ({ path, description, exists: existsSync(path) }));
}

function dirChecks(ctx: CommandContext): Check[] {
  return [...new Set([ctx.paths.configDir, ctx.paths.dataDir])].map((dir) => {
    if (!existsSync(dir)) return { name: "dir", status: "ok", detail: `${dir} (created on first write)` };
    if (!statSync(dir).isDirectory()) return { name: "dir", status: "fail", detail: `${dir} is not a directory`, hint: "Move the file away, or point OPSTERM_HOME at a directory" };
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      return { name: "dir", status: "fail", detail: `${dir} is not writable`, hint: `Fix its permissions: chmod u+w ${dir}` };
    }
    const mode = statSync(dir).mode & 0o777;
    if (mode & 0o022) return { name: "dir", status: "warn", detail: `${dir} is writable by others (mode ${mode.toString(8)})`, hint: `chmod 700 ${dir}` };
    return { name: "dir", status: "ok", detail: dir };
  });
}

/** Whether the project's .opsterm/ is read; a workspace that is not is a warning, not a failure. */
function workspaceCheck(ctx: CommandContext): Check[] {
  if (!ctx.paths.workspace) return [];
  try {
    const s = ctx.paths.workspace.state();
    if (s.status === "trusted") return [{ name: "workspace", status: "ok", detail: `${s.dir} (trusted)` }];
    return [{ name: "workspace", status: "warn", detail: `${s.dir} ${s.reason}: not read`, hint: s.hint }];
  } catch (raw) {
    const error = fromSystemError(raw);
    return [{ name: "workspace", status: "fail", detail: error instanceof Error ? error.message.split("\n")[0] : String(error), hint: isOpstermError(error) ? error.hint : undefined }];
  }
}

async function configCheck(ctx: CommandContext): Promise<Check> {
  try {
    const config = await ctx.config();
    const found = config.sources.filter((s) => s.exists);
    return { name: "config", status: "ok", detail: found.length ? `valid: ${found.map((s) => s.path).join(", ")}` : "no config file (defaults in use)" };
  } catch (raw) {
    // doctor reports what is broken rather than failing itself: an unreadable file is a FAIL row.
    const error = fromSystemError(raw);
    if (!isOpstermError(error)) return { name: "config", status: "fail", detail: error instanceof Error ? error.message : String(error) };
    return { name: "config", status: "fail", detail: error.message.split("\n")[0], hint: error.hint };
  }
}

function toolFacts(ctx: CommandContext, name: string) {
  const dirs = (ctx.env.PATH ?? "").split(delimiter).filter(Boolean);
  const path = dirs.map((d) => join(d, name)).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  let version: string | undefined;
  if (path) {
    try {
      const out = execFileSync(path, name === "ssh" ? ["-V"] : ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 3000 });
      version = out.trim().split("\n")[0];
    } catch (error) {
      // `ssh -V` prints to stderr and exits 0 on OpenSSH; keep whatever it said.
      version = String((error as { stderr?: string }).stderr ?? "").trim().split("\n")[0] || undefined;
    }
  }
  return { name, path, version };
}

function pluginFacts(ctx: CommandContext) {
  let trusted: ReturnType<typeof readTrustStore>["plugins"] = [];
  try {
    trusted = readTrustStore(ctx.paths.configDir).plugins;
  } catch {
    // A damaged store is already listed among the failures.
  }
  const failed = new Map(ctx.kernel.failures.map((f) => [f.name, f]));
  return [
    ...ctx.kernel.plugins.map((p) => ({ name: p.name, source: p.source, path: p.path, status: "loaded", sha256: trusted.find((t) => t.name === p.name)?.sha256 })),
    ...trusted.filter((t) => failed.has(t.name)).map((t) => ({ name: t.name, source: "user", path: t.path, status: failed.get(t.name)!.code === "E_PLUGIN_UNTRUSTED" ? "changed" : "failed", sha256: t.sha256 })),
  ];
}
