/**
 * `opsterm scp`, `opsterm put` and `opsterm get`. The transfer code (ssh2, crypto, fs) is
 * imported inside the actions, so `opsterm --help` never loads it.
 */
import { defineCommand, expandHome, OpstermError, UsageError, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { checkRemotePath, formatBytes, parseEndpoint, parseMode, parseVia } from "./spec.ts";
import type { FileFailure } from "./types.ts";

const VIA = { flags: "--via <hosts>", description: "Jump hosts (inventory ids, comma-separated), replacing the inventory's chain" };
const YES = { flags: "-y, --yes", description: "Approve the write in advance (rejected actions still never run)" };
const JSON_FLAG = { flags: "--json", description: "Print a JSON summary" };

/** Throws the transfer's failure as a typed error carrying the right exit code. */
function fail(failure: FileFailure | undefined, exitCode: number): never {
  throw new OpstermError(failure?.code ?? "E_SCP_FAILED", failure?.message ?? "The transfer failed", { hint: failure?.hint, exitCode });
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
    const { scpUpload, scpDownload } = await import("./transfer.ts");
    const options = { via: parseVia(args.via), recursive: Boolean(args.recursive), preApproved: Boolean(args.yes), progress: !ctx.json };
    const started = Date.now();
    const outcome =
      dst.kind === "remote"
        ? await scpUpload(ctx, resolve(ctx.runtime.cwd(), expandHome((src as { path: string }).path, ctx.paths.home)), dst.path, { ...options, server: dst.server })
        : await scpDownload(ctx, (src as { server: string; path: string }).path, resolve(ctx.runtime.cwd(), expandHome(dst.path, ctx.paths.home)), { ...options, server: (src as { server: string }).server });
    const seconds = (Date.now() - started) / 1000;
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          direction: outcome.direction,
          server: outcome.server,
          files: outcome.files,
          bytes: outcome.bytes,
          durationMs: Date.now() - started,
          decision: outcome.action.verdict?.decision,
          approver: outcome.action.approver,
          auditStatus: outcome.action.auditStatus,
          exitCode: outcome.exitCode,
          error: outcome.failure ? { code: outcome.failure.code, message: outcome.failure.message } : undefined,
        }),
      );
    } else {
      const s = ctx.io.style;
      const arrow = outcome.direction === "upload" ? "→" : "←";
      if (outcome.files.length <= 20) {
        for (const f of outcome.files) ctx.io.out(`${rel(ctx, f.local)} ${arrow} ${outcome.server}:${f.remote} ${s.dim(`(${formatBytes(f.bytes)}, ${f.mode}${f.replaced ? ", replaced" : ""})`)}`);
      }
      if (outcome.files.length > 0) {
        const rate = seconds > 0 ? `, ${formatBytes(Math.round(outcome.bytes / seconds))}/s` : "";
        const what = outcome.files.length === 1 ? "1 file" : `${outcome.files.length} files`;
        ctx.io.out(`${s.green(outcome.direction === "upload" ? "uploaded" : "downloaded")} ${what}, ${formatBytes(outcome.bytes)} in ${seconds.toFixed(1)} s${rate}`);
      }
    }
    if (outcome.exitCode !== 0) fail(outcome.failure, outcome.exitCode);
    return 0;
  },
});

const put = defineCommand({
  name: "put",
  description: "Write stdin to a remote file: atomic replace, verified, snapshotted before and after",
  usage: "<server> <path>",
  options: [{ flags: "--mode <mode>", description: "File mode in octal, e.g. 0644 (default: keep the replaced file's, 0644 for a new one)" }, VIA, YES, JSON_FLAG],
  examples: ["echo 'maintenance tonight' | opsterm put web1 /etc/motd --yes", "opsterm put web1 /etc/app/env --mode 0600 < env.prod"],
  async action(args, ctx) {
    const path = checkRemotePath(String(args.path));
    const mode = parseMode(args.mode);
    if (ctx.io.isTTY.stdin) {
      throw new UsageError("put reads the new content from stdin, which is a terminal", { code: "E_PUT_STDIN_TTY", hint: `Pipe or redirect it: opsterm put ${args.server} ${path} < file` });
    }
    const { putFile } = await import("./transfer.ts");
    const result = await putFile(ctx, {
      server: String(args.server),
      path,
      content: ctx.io.stdin,
      mode,
      forceMode: mode !== undefined,
      via: parseVia(args.via),
      preApproved: Boolean(args.yes),
      progress: !ctx.json,
    });
    const { octal } = await import("./transfer.ts");
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          server: result.server,
          path: result.path,
          bytes: result.bytes,
          sha256: result.sha256,
          mode: octal(result.mode),
          replaced: result.replaced,
          verifiedBy: result.verifiedBy,
          snapshots: result.snapshots,
          decision: result.action.verdict?.decision,
          approver: result.action.approver,
          auditStatus: result.action.auditStatus,
          exitCode: result.exitCode,
          error: result.failure,
        }),
      );
    } else if (result.bytes !== undefined) {
      const s = ctx.io.style;
      ctx.io.out(`${s.green("wrote")} ${result.server}:${result.path} ${s.dim(`(${formatBytes(result.bytes)}, mode ${octal(result.mode)}, ${result.replaced ? "replaced" : "new"}, sha256 ${result.sha256?.slice(0, 12)}…, verified by ${result.verifiedBy})`)}`);
    }
    if (result.exitCode !== 0) fail(result.failure, result.exitCode);
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
      const { streamFile } = await import("./transfer.ts");
      const out = ctx.io.stdout;
      const outcome = await streamFile(ctx, { server, path, via, preApproved }, (chunk) =>
        out.write(chunk) ? undefined : new Promise<void>((resolve) => out.once("drain", () => resolve())),
      );
      if (outcome.exitCode !== 0) fail(outcome.failure, outcome.exitCode);
      return 0;
    }
    const { posix, resolve } = await import("node:path");
    const { scpDownload } = await import("./transfer.ts");
    const target = resolve(ctx.runtime.cwd(), expandHome(local ?? posix.basename(path), ctx.paths.home));
    const outcome = await scpDownload(ctx, path, target, { server, via, preApproved, recursive: false, progress: !ctx.json });
    const f = outcome.files[0];
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ server: outcome.server, path, local: f?.local, bytes: f?.bytes, sha256: f?.sha256, mode: f?.mode, auditStatus: outcome.action.auditStatus, exitCode: outcome.exitCode, error: outcome.failure ? { code: outcome.failure.code, message: outcome.failure.message } : undefined }));
    } else if (f) {
      ctx.io.out(`${ctx.io.style.green("saved")} ${rel(ctx, f.local)} ${ctx.io.style.dim(`(${formatBytes(f.bytes)}, sha256 ${f.sha256.slice(0, 12)}…)`)}`);
    }
    if (outcome.exitCode !== 0) fail(outcome.failure, outcome.exitCode);
    return 0;
  },
});


export const scpCommands: CommandSpec[] = [scp, put, get];
