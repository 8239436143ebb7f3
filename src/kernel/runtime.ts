/**
 * The one seam to the host runtime (Node or Deno): argv, env, cwd, stdio, exit.
 * Everything else asks here, so the same source runs under both.
 */
import { openSync } from "node:fs";
import process from "node:process";
import { ReadStream } from "node:tty";

export interface Runtime {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd(): string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  platform: string;
  arch: string;
  execPath: string;
  versions: Record<string, string | undefined>;
  pid: number;
  /** The user's uid (undefined where the platform has none): a workspace must be owned by it. */
  uid: number | undefined;
  exit(code: number): never;
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void;
  /**
   * The controlling terminal, for questions when stdin is a pipe (`pg_dump | opsterm exec …`),
   * as sudo asks on /dev/tty. Undefined when there is none (cron, CI, a daemon).
   */
  openTty?(): NodeJS.ReadStream | undefined;
  /** Calls `handler` once when a reader of stdout or stderr went away (EPIPE: `| head`). */
  onOutputClosed?(handler: () => void): () => void;
  /** Resolves when everything written to stdout and stderr has been handed to the OS. */
  drain?(): Promise<void>;
}

/** The process the CLI runs in. Tests build their own with `createRuntime({...})`. */
export function hostRuntime(): Runtime {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    // A getter: touching process.stdin builds its stream (and loads the stream modules), a few
    // milliseconds that `opsterm --help` and most commands never need.
    get stdin() {
      return process.stdin;
    },
    // Getters for the same reason: a stream is built (and watched for EPIPE) when first used.
    get stdout() {
      return watched(process.stdout);
    },
    get stderr() {
      return watched(process.stderr);
    },
    platform: process.platform,
    arch: process.arch,
    execPath: process.execPath,
    versions: process.versions,
    pid: process.pid,
    uid: process.getuid?.(),
    exit: (code) => process.exit(code),
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
    openTty: () => (tty ??= openControllingTty()),
    onOutputClosed(handler) {
      closedHandlers.add(handler);
      return () => closedHandlers.delete(handler);
    },
    drain: () => Promise.all([...watchedStreams].map(drained)).then(() => undefined),
  };
}

let tty: NodeJS.ReadStream | undefined;
const closedHandlers = new Set<() => void>();
let outputClosed = false;
// A reader that closes early (`opsterm audit log | head`: EPIPE) is not an error: stop quietly.
// Any other failure of stdout/stderr (EBADF after `>&-`) means the same: nobody reads any more.
const watchedStreams = new Set<NodeJS.WriteStream>();
function watched(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (!watchedStreams.has(stream)) {
    watchedStreams.add(stream);
    stream.on("error", () => {
      if (outputClosed) return;
      outputClosed = true;
      for (const handler of closedHandlers) handler();
    });
  }
  return stream;
}

function openControllingTty(): NodeJS.ReadStream | undefined {
  try {
    const fd = openSync("/dev/tty", "r");
    const stream = new ReadStream(fd);
    // Only a question keeps the process alive, not the open terminal.
    stream.unref?.();
    return stream as unknown as NodeJS.ReadStream;
  } catch {
    return undefined;
  }
}

/** Waits until `stream` has no bytes queued (a pipe to a slow reader), or it closed. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (outputClosed || stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", check);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    const check = () => {
      if (stream.writableLength === 0) done();
    };
    stream.on("drain", check);
    stream.once("close", done);
    stream.once("error", done);
  });
}

/** True when this code runs inside a Node single executable (dist/opsterm). */
export function isSingleExecutable(): boolean {
  try {
    // node:sea only exists in Node >= 20; under Deno or plain node it reports false.
    const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = getBuiltin?.("node:sea") as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() ?? false;
  } catch {
    return false;
  }
}
