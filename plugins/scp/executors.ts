/**
 * The file executors: `read`, `write`, `list`, `stat` and `find` on a server, over SFTP on a
 * connection borrowed from the ssh plugin's pool. The gate has classified, approved and audited
 * each action before execute() runs; writes snapshot through the gate. `find` walks the tree over
 * SFTP: no shell command is ever built from its arguments.
 */
import { posix } from "node:path";
import type { Client, Stats } from "ssh2";
import { EXIT, isOpstermError, UsageError, type ActionRequest, type Execution, type ExecuteOutcome, type Executor, type PluginContext } from "../../src/kernel/index.ts";
import type { ServerTarget } from "../../src/contracts/inventory.ts";
import { openSftp, permissionBits, SftpError, type Sftp } from "./sftp.ts";
import { downloadTree, octal, readSlice, removeFile, streamRemote, uploadTree, writeContent, type Content, type RemovedFile, type ScpFileResult, type Session, type WrittenFile } from "./transfer.ts";

type FileExecutor = Executor<ServerTarget>;

/** Parameters each kind reads from `request.params`. */
export interface WriteParams {
  /** New content for `path` (a stream is written as it arrives); or `local` for an upload. */
  content?: Content;
  /** A local file or (with `recursive`) directory to upload to `path`. */
  local?: string;
  mode?: number;
  forceMode?: boolean;
  size?: number;
  progress?: boolean;
  /** Replace only if the file still has this sha256 (null: only if it does not exist). */
  expectSha256?: string | null;
  /**
   * The content is a secret (`put --from-vault`): snapshots keep only sizes and no sha256 of it
   * is recorded (a hash of a short password is as good as the password).
   */
  secret?: boolean;
  /** Owner to give the file (uid, gid): an undo restores the before-state's. Default: a replaced file keeps its own. */
  owner?: { uid: number; gid: number };
  /**
   * Remove `path` instead of writing it (an undo of a write that created the file). Same gate,
   * policy kind (`write`), audit and before/after snapshots; with `expectSha256`, only if the file
   * still holds that content.
   */
  remove?: boolean;
}

export interface ReadParams {
  /** Stream the file here (`get … -`). */
  sink?: (chunk: Buffer) => void | Promise<void>;
  /** Download to this local file or (with `recursive`) directory. */
  local?: string;
  offset?: number;
  length?: number;
  maxBytes?: number;
  progress?: boolean;
}

export interface ListParams {
  limit?: number;
}

export interface FindParams {
  /** A glob on file names: `*.conf`, `access.log.?`. */
  pattern: string;
  limit?: number;
}

export interface DirEntry {
  path: string;
  type: "file" | "dir" | "link" | "other";
  size: number;
  mode: string;
  mtime: string;
}

export function fileExecutors(plugin: PluginContext): FileExecutor[] {
  const resolve = (request: ActionRequest) => plugin.use("inventory").target(request.target, { via: request.via, what: `a ${request.kind} action` });

  // One SFTP channel per pooled connection, reused by the file actions that follow (an agent or an
  // MCP client makes dozens on one host; opening a channel is a round trip and a subsystem start).
  // A failed or cancelled action closes its channel, so no half-done handle outlives it.
  const channels = new WeakMap<Client, Promise<Sftp>>();
  function sftpOf(client: Client): Promise<Sftp> {
    const cached = channels.get(client);
    if (cached) return cached.then((s) => (s.alive() ? s : fresh(client)), () => fresh(client));
    return fresh(client);
  }
  function fresh(client: Client): Promise<Sftp> {
    const opening = openSftp(client);
    channels.set(client, opening);
    opening.catch(() => channels.get(client) === opening && channels.delete(client));
    return opening;
  }
  function discard(client: Client, sftp: Sftp): void {
    void channels.get(client)?.then((s) => s === sftp && channels.delete(client), () => undefined);
    sftp.end();
  }

  /** Runs `body` on an SFTP session of a pooled connection, turning failures into an outcome. */
  async function withSession(run: Execution<ServerTarget>, progress: boolean, body: (session: Session) => Promise<Omit<ExecuteOutcome, "exitCode" | "completed">>): Promise<ExecuteOutcome> {
    let held;
    try {
      held = await plugin.use("ssh.connections").lease(run.ctx, run.target.server, run.signal);
    } catch (error) {
      return failed(error, run.signal);
    }
    let sftp: Sftp | undefined;
    let clean = false;
    try {
      sftp = await sftpOf(held.conn.client);
      const session: Session = { ctx: run.ctx, server: run.target.server, conn: held.conn, sftp, signal: run.signal, snapshot: run.snapshot, progress };
      const outcome: ExecuteOutcome = { exitCode: 0, completed: true, ...(await body(session)) };
      clean = !run.signal.aborted;
      return outcome;
    } catch (error) {
      const outcome = failed(error, run.signal);
      // A snapshot that failed after the write: the transfer itself completed.
      return isOpstermError(error) && error.code === "E_SNAPSHOT_AFTER" ? { ...outcome, exitCode: 1, completed: true } : outcome;
    } finally {
      if (sftp && !clean) discard(held.conn.client, sftp);
      held.release();
    }
  }

  const write: FileExecutor = {
    kind: "write",
    resolve,
    async execute(run) {
      const p = run.params as WriteParams;
      if (p.remove === true) {
        if (p.content !== undefined || p.local !== undefined || run.action.recursive) throw new UsageError("A removal takes no content, local file or -r", { code: "E_ACTION_INVALID" });
        const removed: RemovedFile[] = [];
        const outcome = await withSession(run, false, async (session) => {
          await removeFile(session, run.action.path!, p.expectSha256, removed);
          return { details: { removed: 1, bytes: removed[0].bytes, sha256: removed[0].sha256, mode: octal(removed[0].mode) }, data: { removed } };
        });
        return outcome.details ? outcome : { ...outcome, details: { removed: removed.length }, data: { removed } };
      }
      const done: WrittenFile[] = [];
      const summary = () => ({
        details: { files: done.length, bytes: done.reduce((n, f) => n + f.bytes, 0), ...(done.length === 1 ? { ...(p.secret ? {} : { sha256: done[0].sha256 }), mode: octal(done[0].mode) } : {}) },
        data: { files: done },
      });
      const outcome = await withSession(run, p.progress ?? false, async (session) => {
        if (p.local !== undefined) await uploadTree(session, p.local, run.action.path!, Boolean(run.action.recursive), done);
        else if (p.content !== undefined) await writeContent(session, run.action.path!, p.content, p, done);
        else throw new UsageError("A write needs content or a local file", { code: "E_WRITE_NO_CONTENT" });
        return summary();
      });
      // What was written before a failure still belongs in the record and the result.
      return outcome.details ? outcome : { ...outcome, ...summary() };
    },
  };

  const read: FileExecutor = {
    kind: "read",
    resolve,
    execute(run) {
      const p = run.params as ReadParams;
      const path = run.action.path!;
      return withSession(run, p.progress ?? false, async (session) => {
        if (p.sink) {
          const r = await streamRemote(session, path, p.sink);
          return { details: { bytes: r.bytes, sha256: r.sha256 }, data: { mode: r.mode } };
        }
        if (p.local !== undefined) {
          const files: ScpFileResult[] = [];
          await downloadTree(session, path, p.local, Boolean(run.action.recursive), files);
          return { details: { files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) }, data: { files } };
        }
        const slice = await readSlice(session, path, p);
        return { details: { bytes: slice.content.length, size: slice.size, sha256: slice.sha256, ...(slice.offset ? { offset: slice.offset } : {}) }, data: slice };
      });
    },
  };

  const list: FileExecutor = {
    kind: "list",
    resolve,
    execute(run) {
      const limit = positive((run.params as ListParams).limit, 1000);
      return withSession(run, false, async ({ sftp }) => {
        const root = run.action.path!;
        const top = await sftp.stat(root);
        if (!top) throw new UsageError(`${run.target.id}:${root} does not exist`, { code: "E_SCP_NOT_FOUND" });
        if (!top.isDirectory()) return { details: { entries: 1 }, data: { entries: [entry(root, top)], truncated: false } };
        const entries: DirEntry[] = [];
        const queue = [root];
        let truncated = false;
        while (queue.length && !truncated) {
          const dir = queue.shift()!;
          for (const e of (await sftp.readdir(dir)).sort((a, b) => (a.filename < b.filename ? -1 : 1))) {
            if (e.filename === "." || e.filename === "..") continue;
            if (entries.length >= limit) {
              truncated = true;
              break;
            }
            const item = entry(posix.join(dir, e.filename), e.attrs);
            entries.push(item);
            if (run.action.recursive && item.type === "dir") queue.push(item.path);
          }
        }
        return { details: { entries: entries.length, truncated }, data: { entries, truncated } };
      });
    },
  };

  const stat: FileExecutor = {
    kind: "stat",
    resolve,
    execute(run) {
      return withSession(run, false, async ({ sftp }) => {
        const path = run.action.path!;
        const link = await sftp.lstat(path);
        if (!link) return { details: { exists: false }, data: { path, exists: false } };
        const followed = link.isSymbolicLink() ? await sftp.stat(path) : link;
        const target = link.isSymbolicLink() ? await sftp.realpath(path).catch(() => undefined) : undefined;
        const info = { ...entry(path, link), exists: true, uid: link.uid, gid: link.gid, ...(target ? { target, targetType: followed ? entry(target, followed).type : "missing" } : {}) };
        return { details: { exists: true, type: info.type }, data: info };
      });
    },
  };

  const find: FileExecutor = {
    kind: "find",
    resolve,
    execute(run) {
      const p = run.params as unknown as FindParams;
      const limit = positive(p.limit, 200);
      const match = globMatcher(String(p.pattern ?? "*"));
      // A bound on the walk itself, so a find over / ends in time whatever it matches.
      const maxVisited = 50_000;
      return withSession(run, false, async ({ sftp }) => {
        const found: DirEntry[] = [];
        const queue = [run.action.path!];
        let visited = 0;
        let truncated = false;
        while (queue.length && !truncated) {
          const dir = queue.shift()!;
          let listing;
          try {
            listing = await sftp.readdir(dir);
          } catch {
            continue; // unreadable directories are skipped, like find(1) with its warning
          }
          for (const e of listing) {
            if (e.filename === "." || e.filename === "..") continue;
            if (++visited > maxVisited || found.length >= limit) {
              truncated = true;
              break;
            }
            const item = entry(posix.join(dir, e.filename), e.attrs);
            if (match(e.filename)) found.push(item);
            if (item.type === "dir") queue.push(item.path);
          }
        }
        return { details: { matches: found.length, truncated }, data: { entries: found, truncated } };
      });
    },
  };

  return [write, read, list, stat, find];
}

function entry(path: string, s: Stats): DirEntry {
  const type = s.isSymbolicLink() ? "link" : s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  return { path, type, size: s.size, mode: octal(permissionBits(s))!, mtime: new Date(s.mtime * 1000).toISOString() };
}

function positive(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** `*` any run of characters but `/`, `?` one character, `[abc]` a class; anchored on the whole name. */
export function globMatcher(glob: string): (name: string) => boolean {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\").replace(/^!/, "^");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  const compiled = new RegExp(`^${re}$`, "s");
  return (name) => compiled.test(name);
}

/** An outcome for a failure: interrupted, an opsterm error with its exit code, or an SFTP error (1). */
function failed(error: unknown, signal: AbortSignal): ExecuteOutcome {
  if (signal.aborted) {
    return { exitCode: null, completed: false, error: { code: "E_INTERRUPTED", message: "Interrupted; the target was not replaced unless the final rename had already been sent", exitCode: EXIT.INTERRUPTED } };
  }
  if (isOpstermError(error)) return { exitCode: null, completed: false, error: { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode } };
  if (error instanceof SftpError) return { exitCode: null, completed: false, error: { code: "E_SCP_SFTP", message: error.message, exitCode: EXIT.FAILURE } };
  return { exitCode: null, completed: false, error: { code: "E_SCP_FAILED", message: error instanceof Error ? error.message : String(error), exitCode: EXIT.FAILURE } };
}
