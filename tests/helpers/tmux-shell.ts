/**
 * A real interactive shell (bash, zsh or fish) in its own tmux server, with a temp HOME and
 * OPSTERM_HOME, driven by send-keys and read with capture-pane. `opsterm` on the shell's PATH is
 * a wrapper that runs this checkout's src/main.ts with tsx.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");

export interface TmuxShell {
  home: string;
  socket: string;
  /** The directory holding the `opsterm` wrapper. */
  bin: string;
  /** tmux send-keys arguments: literal text with `-l`, else key names (Enter, M-o, C-u). */
  type(text: string): void;
  keys(...names: string[]): void;
  /** Types a line (may hold newlines: each becomes Enter) and presses Enter. */
  run(line: string): void;
  capture(): string;
  close(): void;
}

export type ShellKind = "bash" | "zsh" | "fish";

/** Polls `check` until it returns something other than undefined, or throws with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000, describe?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `\n--- screen ---\n${describe()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function startShell(kind: ShellKind, options: { env?: Record<string, string> } = {}): TmuxShell {
  const home = mkdtempSync(join(tmpdir(), `opsterm-${kind}-`));
  const bin = join(home, "bin");
  mkdirSync(bin);
  const wrapper = join(bin, "opsterm");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${sq(process.execPath)} ${sq(join(REPO, "node_modules/tsx/dist/cli.mjs"))} ${sq(join(REPO, "src/main.ts"))} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const socket = join(home, "tmux.sock");
  const env: Record<string, string> = {
    HOME: home,
    OPSTERM_HOME: join(home, "opsterm"),
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
    PS1: "P$ ",
    ...options.env,
  };
  const argv = {
    bash: "bash --norc --noprofile -i",
    zsh: "zsh -f -i",
    fish: "fish --no-config -i -C " + sq("function fish_prompt; printf 'P$ '; end; function fish_greeting; end"),
  }[kind];
  // TMUX/TMUX_PANE are set by tmux for the pane's command; keep them through env -i.
  const command = `exec env -i ${Object.entries(env).map(([k, v]) => `${k}=${sq(v)}`).join(" ")} TMUX="$TMUX" TMUX_PANE="$TMUX_PANE" ${argv}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], { encoding: "utf8", env: { ...process.env, TMUX: "" } });
  tmux("new-session", "-d", "-x", "150", "-y", "45", "-c", home, command);
  return {
    home,
    socket,
    bin,
    type: (text) => void tmux("send-keys", "-t", "0", "-l", text),
    keys: (...names) => void tmux("send-keys", "-t", "0", ...names),
    run(line) {
      for (const part of line.split("\n")) {
        if (part) tmux("send-keys", "-t", "0", "-l", part);
        tmux("send-keys", "-t", "0", "Enter");
      }
    },
    capture: () => tmux("capture-pane", "-p", "-J", "-t", "0", "-S", "-200"),
    close() {
      let pid = 0;
      try {
        pid = Number(tmux("display-message", "-p", "-t", "0", "#{pane_pid}").trim());
        tmux("kill-server");
      } catch {
        // Already gone.
      }
      // The shell writes its history file as it exits after SIGHUP: wait for it, then remove HOME.
      waitForExit(pid, 5_000);
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}

function waitForExit(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  while (pid > 0 && Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
