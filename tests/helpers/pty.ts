/**
 * Runs the opsterm CLI on a real pseudo-terminal (util-linux `script`), answering questions as
 * they appear: for tests of prompts, progress bars and other TTY-only behaviour.
 *
 * @example
 * const r = await runOnTty(["exec", "box", "--", "uname", "-n"], env, [{ when: /Trust it/, send: "y" }]);
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs opsterm on a pty; each time the output matches `when`, types `send` (then Enter). */
export function runOnTty(
  args: string[],
  env: Record<string, string>,
  answers: { when: RegExp; send: string }[] = [],
  /** `binary`: run this executable (dist/opsterm) instead of the source; `pipeIn`: stdin is a pipe carrying this text; `cwd`: where it runs. */
  options: { binary?: string; pipeIn?: string; cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  const argv = options.binary ? [options.binary, ...args] : [join(REPO, "node_modules/.bin/tsx"), join(REPO, "src/main.ts"), ...args];
  const cmd = (options.pipeIn !== undefined ? `printf '%s' ${q(options.pipeIn)} | ` : "") + argv.map(q).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", cmd, "/dev/null"], { cwd: options.cwd ?? REPO, env: { ...env, SHELL: "/bin/sh", TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    let next = 0;
    let seen = 0;
    const onData = (c: Buffer) => {
      output += c.toString();
      while (next < answers.length && answers[next].when.test(output.slice(seen))) {
        seen = output.length;
        child.stdin!.write(answers[next++].send + "\r");
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin!.destroy();
      resolve({ code, output });
    });
  });
}
