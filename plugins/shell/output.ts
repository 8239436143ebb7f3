/**
 * The output of the last command: the capture wrapper's file when it ran, else the tmux pane the
 * shell ran in (`tmux capture-pane`, argv only), trimmed to what the last command printed when
 * its command line can be found on the screen. A private (hidden) command's pane is never read.
 */
import { execFile } from "node:child_process";
import type { LastCommand } from "./types.ts";
import { readCapture } from "./state.ts";

export interface CommandOutput {
  source: "capture" | "tmux";
  text: string;
  /** True when cut to exactly the last command's output (its command line was found). */
  trimmed: boolean;
  /** True when more lines were there than `--lines` allowed. */
  truncated: boolean;
}

// CSI, OSC (BEL or ST terminated), other two-byte escapes, then stray control characters.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

export function stripControl(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/\r(?!\n)/g, "\n").replace(ANSI, "");
}

/** The last `maxLines` lines of `text`, and whether any were dropped. */
function tailLines(text: string, maxLines: number): { text: string; truncated: boolean } {
  const lines = text.replace(/\n+$/, "").split("\n");
  if (lines.length <= maxLines) return { text: lines.join("\n"), truncated: false };
  return { text: lines.slice(-maxLines).join("\n"), truncated: true };
}

/**
 * Cuts a pane capture to the output of `command`: the lines after the last line that shows the
 * command (prompt + first line of the command, then its continuation lines) and before the
 * prompt the shell printed after it (the last `promptLines` non-empty lines).
 */
export function trimPane(pane: string, command: string, promptLines: number): { text: string; trimmed: boolean } {
  const lines = pane.split("\n").map((l) => l.replace(/\s+$/, ""));
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const end = Math.max(0, lines.length - promptLines);
  const cmdLines = command.split("\n");
  const first = cmdLines[0].trim();
  if (first) {
    for (let i = end - 1; i >= 0; i--) {
      if (lines[i].endsWith(first)) {
        const start = Math.min(end, i + cmdLines.length);
        return { text: lines.slice(start, end).join("\n"), trimmed: true };
      }
    }
  }
  return { text: lines.slice(0, end).join("\n"), trimmed: false };
}

function capturePane(tmux: { socket: string; pane: string }, lines: number, signal?: AbortSignal): Promise<string | undefined> {
  const argv = ["-S", tmux.socket, "capture-pane", "-p", "-J", "-t", tmux.pane, "-S", `-${lines}`];
  return new Promise((resolve) => {
    execFile("tmux", argv, { timeout: 3000, maxBuffer: 8 * 1024 * 1024, signal }, (error, stdout) => {
      // A pane that is gone or a tmux that is not installed: there is simply no output to show.
      resolve(error ? undefined : stdout);
    });
  });
}

export async function commandOutput(last: LastCommand, dir: string, maxLines: number, signal?: AbortSignal): Promise<CommandOutput | undefined> {
  if (last.captured) {
    const text = readCapture(dir, last.pid);
    if (text !== undefined) return { source: "capture", trimmed: true, ...tailLines(stripControl(text), maxLines) };
  }
  if (!last.tmux) return undefined;
  // A private command (it started with a space) cannot be found on the screen without its text,
  // and the screen shows that very text: never read the pane for it.
  if (last.hidden) return undefined;
  // Capture more than asked: the prompt and command line are cut off afterwards.
  const pane = await capturePane(last.tmux, maxLines + 20 + last.promptLines + last.command.split("\n").length, signal);
  if (pane === undefined) return undefined;
  const cut = trimPane(stripControl(pane), last.command, last.promptLines);
  return { source: "tmux", trimmed: cut.trimmed, ...tailLines(cut.text, maxLines) };
}
