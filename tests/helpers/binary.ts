/**
 * Runs the BUILT executable (dist/opsterm) as a user would: a temp OPSTERM_HOME, a chosen cwd,
 * no TTY. Fails with a clear message when the binary has not been built.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const binaryPath = join(repoRoot, "dist", "opsterm");
export const bundlePath = join(repoRoot, "dist", "opsterm.cjs");
export const packageVersion = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

/** Throws (so the suite fails, never skips) when `npm run build` has not produced `path`. */
export function requireBuilt(path = binaryPath): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the e2e tests run the built binary. Run "npm run build" first (or "npm test", which builds).`);
  }
  return path;
}

export function tempDir(prefix = "opsterm-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  home: string;
  cwd?: string;
  /** Replaces the default environment entirely when `clean` is true. */
  env?: Record<string, string>;
  clean?: boolean;
  input?: string;
}

/** A small, explicit environment: nothing from the developer's shell leaks in (no NO_COLOR, no XDG). */
export function baseEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, OPSTERM_HOME: home, LANG: "C.UTF-8" };
}

export function run(command: string, args: string[], options: RunOptions): Run {
  const env = options.clean ? (options.env ?? {}) : { ...baseEnv(options.home), ...options.env };
  const r = spawnSync(command, args, { cwd: options.cwd ?? options.home, env, input: options.input ?? "", encoding: "utf8", timeout: 20_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs dist/opsterm. */
export function opsterm(args: string[], options: RunOptions): Run {
  return run(requireBuilt(), args, options);
}

/** dist/opsterm without blocking this process (a fake AI server or sshd in the test must keep answering). */
export function opstermAsync(args: string[], options: RunOptions): Promise<Run> {
  const env = options.clean ? (options.env ?? {}) : { ...baseEnv(options.home), ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(requireBuilt(), args, { cwd: options.cwd ?? options.home, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}
