/**
 * Shared by the vault tests: the built binary run asynchronously (so an in-process HTTP server
 * can answer it) and a vault home made with it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBuilt } from "../../helpers/binary.ts";

export interface BinaryRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** dist/opsterm with exactly `env` (plus PATH), `input` on stdin, no terminal. */
export function runBinary(args: string[], env: Record<string, string>, options: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<BinaryRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireBuilt(), args, { cwd: options.cwd ?? env.OPSTERM_HOME, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", NO_COLOR: "1", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export function tempHome(prefix = "opsterm-vault-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every regular file under `dir` (recursively), except `skip`. */
export function filesUnder(dir: string, skip: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip(path)) continue;
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path, skip));
    else if (st.isFile()) out.push(path);
  }
  return out;
}

/** Files under `dir` whose bytes contain `needle` (as UTF-8). */
export function filesContaining(dir: string, needle: string, skip?: (path: string) => boolean): string[] {
  const bytes = Buffer.from(needle, "utf8");
  return filesUnder(dir, skip).filter((f) => readFileSync(f).includes(bytes));
}
