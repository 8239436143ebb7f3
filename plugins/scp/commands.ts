/**
 * `opsterm scp`, `opsterm put` and `opsterm get`. The transfer code (ssh2, crypto, fs) is
 * imported inside the actions, so `opsterm --help` never loads it.
 */
import { defineCommand, exitCodeFor, expandHome, OpstermError, UsageError, type ActionResult, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { formatBytes } from "../../src/lib/format.ts";
import { parseVia } from "../../src/lib/args.ts";
import { checkRemotePath, parseEndpoint, parseMode } from "./spec.ts";
import type { ScpFileResult, WrittenFile } from "./transfer.ts";

const VIA = { flags: "--via <hosts>", description: "Jump hosts (inventory ids, comma-separated), replacing the inventory's chain" };
const YES = { flags: "-y, --yes", description: "Approve the write in advance (rejected actions still never run)" };
const JSON_FLAG = { flags: "--json", description: "Print a JSON summary" };

/** A failed action as a typed error carrying the right exit code (a refusal, a failed snapshot, a failed transfer …). */
function fail(result: ActionResult): never {
  throw new OpstermError(result.error?.code ?? "E_SCP_FAILED", result.error?.message ?? "The transfer failed", { hint: result.error?.hint ?? hintFor(result.error?.code), exitCode: exitCodeFor(result) });
}

function hintFor(code: string | undefined): string | undefined {
  if (code === "E_APPROVAL_DENIED") return "Run it from a terminal to approve it, or pass --yes to approve it in advance";
  if (code === "E_POLICY_REJECT") return "The policy refuses this even with --yes; see your policy rules";
  if (code?.startsWith("E_AUDIT_")) return "Check that the audit directory is writable; nothing runs without its audit record";
  return undefined;
}

function rel(ctx: CommandContext, path: string): string {
  const cwd = ctx.runtime.cwd();
  return path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
}

const scp = defineCommand({
  name: "scp",
  description: "Copy files to or from a server over SFTP (atomic, verified, snapshotted writes)",
  usage: "<src> <dst>",
  options: [{ flags: "-r, --recursive", description: "Copy directories recursively" }, VIA, YES, JSON_FLAG],
  examples: [
    "opsterm scp ./nginx.conf web1:/etc/nginx/nginx.conf --yes",
    "opsterm scp web1:/var/log/syslog ./syslog",
    "opsterm scp -r ./site web1:/srv/www/ --via bastion",
  ],
  async action(args, ctx) {
    const src = parseEndpoint(String(args.src));
    const dst = parseEndpoint(String(args.dst));
    if (src.kind === "local" && dst.kind === "local") {
      throw new UsageError("Both paths are local", { code: "E_SCP_LOCAL_ONLY", hint: "Name the server as server:path on one side, e.g. opsterm scp ./app.conf web1:/etc/app.conf" });
    }
    if (src.kind === "remote" && dst.kind === "remote") {
      throw new UsageError("Both paths are remote", { code: "E_SCP_REMOTE_BOTH", hint: "Copy to a local file first, then upload it: opsterm scp a:/x ./x && opsterm scp ./x b:/x" });
    }
    const { resolve } = await import("node:path");
    const via = parseVia(args.via);
    const recursive = Boolean(args.recursive);
    const started = Date.now();
    const upload = dst.kind === "remote";
    const local = resolve(ctx.runtime.cwd(), expandHome(upload ? (src as { path: string }).path : dst.path, ctx.paths.home));
    const remote = upload ? dst : (src as { server: string; path: string });
    const summary = upload ? await uploadSummary(local, recursive) : `scp download${recursive ? " -r" : ""}`;
    const result = await ctx.actions.run(
      { kind: upload ? "write" : "read", target: remote.server, path: remote.path, via, recursive, summary, params: { local, progress: !ctx.json } },
      { preApproved: Boolean(args.yes) },
    );
    const written = ((result.data as { files?: (ScpFileResult | WrittenFile)[] } | undefined)?.files ?? []).map((f) => fileLine(f, result));
    const bytes = written.reduce((n, f) => n + f.bytes, 0);
    const seconds = (Date.now() - started) / 1000;
    const exitCode = exitCodeFor(result);
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          direction: upload ? "upload" : "download",
          server: result.action.server,
          files: written,
          bytes,
          durationMs: Date.now() - started,
          decision: result.verdict?.decision,
          approver: result.approver,
          auditStatus: result.auditStatus,
          auditSeq: result.auditSeq ?? null,
          exitCode,
          error: result.error ? { code: result.error.code, message: result.error.message } : undefined,
        }),
      );
    } else {
      const s = ctx.io.style;
      const arrow = upload ? "→" : "←";
      if (written.length <= 20) {
        for (const f of written) ctx.io.out(`${rel(ctx, f.local ?? "-")} ${arrow} ${result.action.server}:${f.remote} ${s.dim(`(${formatBytes(f.bytes)}, ${f.mode}${f.replaced ? ", replaced" : ""})`)}`);
      }
      if (written.length > 0) {
        const rate = seconds > 0 ? `, ${formatBytes(Math.round(bytes / seconds))}/s` : "";
        const what = written.length === 1 ? "1 file" : `${written.length} files`;
        ctx.io.out(`${s.green(upload ? "uploaded" : "downloaded")} ${what}, ${formatBytes(bytes)} in ${seconds.toFixed(1)} s${rate}`);
      }
    }
    if (exitCode !== 0) fail(result);
    return 0;
  },
});

/** What the approval prompt and the audit log say about an upload: how many files, how many bytes. */
async function uploadSummary(local: string, recursive: boolean): Promise<string> {
  const { localTree } = await import("./transfer.ts");
  const tree = await localTree(local, recursive);
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  return `scp upload ${tree.dir ? `${tree.files.length} files` : "file"} (${formatBytes(total)})`;
}

/** One transferred file, the same shape for both directions. */
function fileLine(f: ScpFileResult | WrittenFile, result: ActionResult) {
  if (!("path" in f)) return f;
  const snap = result.snapshots.find((x) => x.remote === f.path);
  return { local: f.local, remote: f.path, bytes: f.bytes, sha256: f.sha256, mode: octalMode(f.mode), replaced: f.replaced, verifiedBy: f.verifiedBy, snapshots: { before: snap?.before, after: snap?.after } };
}

function octalMode(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}

const put = defineCommand({
  name: "put",
  description: "Write stdin (or a vault value) to a remote file: atomic replace, verified, snapshotted before and after",
  usage: "<server> <path>",
  options: [
    { flags: "--mode <mode>", description: "File mode in octal, e.g. 0644 (default: keep the replaced file's, 0644 for a new one)" },
    { flags: "--from-vault <name>", description: "Write this vault value instead of stdin (snapshots keep only its size)" },
    VIA,
    YES,
    JSON_FLAG,
  ],
  examples: ["echo 'maintenance tonight' | opsterm put web1 /etc/motd --yes", "opsterm put web1 /etc/app/env --mode 0600 < env.prod", "opsterm put web1 /etc/app/db.pass --mode 0600 --from-vault db_password --yes"],
  async action(args, ctx) {
    const path = checkRemotePath(String(args.path));
    const mode = parseMode(args.mode);
    const secret = args.fromVault === undefined ? undefined : await ctx.use("vault").get(String(args.fromVault));
    if (secret === undefined && ctx.io.isTTY.stdin) {
      throw new UsageError("put reads the new content from stdin, which is a terminal", { code: "E_PUT_STDIN_TTY", hint: `Pipe or redirect it: opsterm put ${args.server} ${path} < file` });
    }
    const result = await ctx.actions.run(
      {
        kind: "write",
        target: String(args.server),
        path,
        via: parseVia(args.via),
        summary: secret === undefined ? "write file (from stdin)" : `write file (from vault ${args.fromVault})`,
        params: { content: secret ?? ctx.io.stdin, secret: secret !== undefined, mode, forceMode: mode !== undefined, progress: !ctx.json },
      },
      { preApproved: Boolean(args.yes) },
    );
    const w = (result.data as { files?: WrittenFile[] } | undefined)?.files?.[0];
    const exitCode = exitCodeFor(result);
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          server: result.action.server,
          path: w?.path ?? path,
          bytes: w?.bytes,
          sha256: secret === undefined ? w?.sha256 : undefined,
          mode: w ? octalMode(w.mode) : undefined,
          replaced: w?.replaced,
          verifiedBy: w?.verifiedBy,
          snapshots: result.snapshots[0] ? { before: result.snapshots[0].before, after: result.snapshots[0].after } : {},
          decision: result.verdict?.decision,
          approver: result.approver,
          auditStatus: result.auditStatus,
          auditSeq: result.auditSeq ?? null,
          exitCode,
          error: result.error ? { code: result.error.code, message: result.error.message, hint: result.error.hint } : undefined,
        }),
      );
    } else if (w) {
      const s = ctx.io.style;
      const sum = secret === undefined ? `, sha256 ${w.sha256.slice(0, 12)}…` : "";
      ctx.io.out(`${s.green("wrote")} ${result.action.server}:${w.path} ${s.dim(`(${formatBytes(w.bytes)}, mode ${octalMode(w.mode)}, ${w.replaced ? "replaced" : "new"}${sum}, verified by ${w.verifiedBy})`)}`);
    }
    if (exitCode !== 0) fail(result);
    return 0;
  },
});

const get = defineCommand({
  name: "get",
  description: "Read one remote file to a local file, or to stdout with -",
  usage: "<server> <path> [local]",
  options: [VIA, YES, JSON_FLAG],
  examples: ["opsterm get web1 /etc/nginx/nginx.conf -", "opsterm get web1 /var/log/app.log ./app.log"],
  async action(args, ctx) {
    const path = checkRemotePath(String(args.path));
    const server = String(args.server);
    // cac turns a lone "-" into no value at all; the raw argv still has it.
    const argv = ctx.runtime.argv;
    const dash = args.local == null && argv.slice(Math.max(0, argv.indexOf("get"))).includes("-");
    const local = dash ? "-" : args.local == null ? undefined : String(args.local);
    const via = parseVia(args.via);
    const preApproved = Boolean(args.yes);
    if (local === "-") {
      if (ctx.json) throw new UsageError("--json cannot share stdout with the file's content", { code: "E_USAGE", hint: "Give a local path with --json, or drop --json" });
      const out = ctx.io.stdout;
      const sink = (chunk: Buffer) => (out.write(chunk) ? undefined : new Promise<void>((resolve) => out.once("drain", () => resolve())));
      const result = await ctx.actions.run({ kind: "read", target: server, path, via, summary: "read file", params: { sink } }, { preApproved });
      if (exitCodeFor(result) !== 0) fail(result);
      return 0;
    }
    const { posix, resolve } = await import("node:path");
    const target = resolve(ctx.runtime.cwd(), expandHome(local ?? posix.basename(path), ctx.paths.home));
    const result = await ctx.actions.run({ kind: "read", target: server, path, via, summary: "scp download", params: { local: target, progress: !ctx.json } }, { preApproved });
    const f = (result.data as { files?: ScpFileResult[] } | undefined)?.files?.[0];
    const exitCode = exitCodeFor(result);
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ server: result.action.server, path, local: f?.local, bytes: f?.bytes, sha256: f?.sha256, mode: f?.mode, auditStatus: result.auditStatus, auditSeq: result.auditSeq ?? null, exitCode, error: result.error ? { code: result.error.code, message: result.error.message } : undefined }));
    } else if (f) {
      ctx.io.out(`${ctx.io.style.green("saved")} ${rel(ctx, f.local)} ${ctx.io.style.dim(`(${formatBytes(f.bytes)}, sha256 ${f.sha256.slice(0, 12)}…)`)}`);
    }
    if (exitCode !== 0) fail(result);
    return 0;
  },
});

export const scpCommands: CommandSpec[] = [scp, put, get];
