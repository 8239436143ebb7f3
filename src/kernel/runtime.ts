/**
 * The one seam to the host runtime (Node or Deno): argv, env, cwd, stdio, exit.
 * Everything else asks here, so the same source runs under both.
 */
import process from "node:process";

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
    stdout: process.stdout,
    stderr: process.stderr,
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
  };
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
