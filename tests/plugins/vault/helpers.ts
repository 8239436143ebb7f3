/**
 * Shared by the vault tests: the built binary run asynchronously (so an in-process HTTP server
 * can answer it), temp homes, and a search of every file a home holds.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opstermAsync, type Run } from "../../helpers/binary.ts";

/** dist/opsterm with `env` over the e2e base environment, `input` on stdin, no terminal. */
export function runBinary(args: string[], env: Record<string, string>, options: { input?: string; cwd?: string } = {}): Promise<Run> {
  return opstermAsync(args, { home: env.OPSTERM_HOME, env: { NO_COLOR: "1", ...env }, input: options.input, cwd: options.cwd });
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
