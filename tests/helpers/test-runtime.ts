/**
 * A Runtime for in-process tests: this process's platform facts, the given streams and
 * environment (HOME and OPSTERM_HOME point at `home`), and an exit() that throws.
 */
import type { Runtime } from "../../src/kernel/runtime.ts";

export function testRuntime(options: {
  home: string;
  argv?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}): Runtime {
  return {
    argv: options.argv ?? [],
    env: { OPSTERM_HOME: options.home, HOME: options.home, PATH: process.env.PATH, USER: "tester", ...options.env },
    cwd: () => options.cwd ?? options.home,
    stdin: options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    platform: process.platform,
    arch: process.arch,
    execPath: process.execPath,
    versions: process.versions,
    pid: process.pid,
    uid: process.getuid?.(),
    exit: (code) => {
      throw new Error(`exit(${code}) called in a test`);
    },
    onSignal: () => () => {},
  };
}
