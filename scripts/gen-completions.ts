/**
 * Writes completions/opsterm.{bash,zsh,fish} from the registry of the BUILT-IN plugins only:
 * the CLI from source is asked for `completion <shell>` with an empty OPSTERM_HOME (so no user
 * plugin can leak in) and a cwd outside any workspace.
 *
 *   tsx scripts/gen-completions.ts           write the files
 *   tsx scripts/gen-completions.ts --check   exit 1 when a checked-in file is stale
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SHELLS, type Shell } from "../src/cli/completions.ts";

export { SHELLS, type Shell };

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const completionFile = (shell: Shell) => join(root, "completions", `opsterm.${shell}`);

/** Runs `opsterm completion <shell>` for each shell; `command` defaults to the source CLI. */
export function freshCompletions(command: string[] = sourceCli()): Record<Shell, string> {
  const home = mkdtempSync(join(tmpdir(), "opsterm-completions-"));
  try {
    const env = { PATH: process.env.PATH ?? "", HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" };
    const out = {} as Record<Shell, string>;
    for (const shell of SHELLS) {
      out[shell] = execFileSync(command[0], [...command.slice(1), "completion", shell], { cwd: home, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    }
    return out;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The CLI from source on the current node, with tsx's loader found from the repo (not the cwd). */
export function sourceCli(): string[] {
  return [process.execPath, "--import", pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href, join(root, "src/main.ts")];
}

export function staleShells(fresh: Record<Shell, string>): Shell[] {
  return SHELLS.filter((shell) => {
    try {
      return readFileSync(completionFile(shell), "utf8") !== fresh[shell];
    } catch {
      return true;
    }
  });
}

function main(): void {
  const fresh = freshCompletions();
  if (process.argv.includes("--check")) {
    const stale = staleShells(fresh);
    if (stale.length) {
      process.stderr.write(`completions are stale for: ${stale.join(", ")}\n  hint: run "npm run gen:completions" and commit completions/\n`);
      process.exit(1);
    }
    process.stdout.write("completions are up to date\n");
    return;
  }
  mkdirSync(join(root, "completions"), { recursive: true });
  for (const shell of SHELLS) {
    writeFileSync(completionFile(shell), fresh[shell]);
    process.stdout.write(`wrote completions/opsterm.${shell} (${fresh[shell].split("\n").length} lines)\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
