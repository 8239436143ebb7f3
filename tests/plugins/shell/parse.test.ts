/**
 * Pure parts of the shell plugin: state file parsing, pane trimming, suggestion extraction.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STATE_END, STATE_MAGIC } from "../../../plugins/shell/scripts.ts";
import { parseState, readLastCommand } from "../../../plugins/shell/state.ts";
import { stripControl, trimPane } from "../../../plugins/shell/output.ts";

const state = (fields: string[]) => [STATE_MAGIC, ...fields, STATE_END].join("\0");
const base = ["1", "1", "", "", "", "fish", "9", "/tmp/tmux-0/default", "%3", "2", "", "/home/u", "ls"];

describe("parseState()", () => {
  it.each([
    { name: "a complete record", text: state(base), ok: true },
    { name: "a record cut mid-write", text: state(base).slice(0, -5), ok: false },
    { name: "a foreign file", text: "hello", ok: false },
    { name: "a non-numeric status", text: state(["x", ...base.slice(1)]), ok: false },
    { name: "an extra field", text: state([...base, "more"]), ok: false },
  ])("returns a record only for $name", ({ text, ok }) => {
    expect(parseState(text, "f", 0) !== undefined).toBe(ok);
  });

  it("computes start from file time minus CMD_DURATION when the shell has no clock (fish)", () => {
    const rec = parseState(state(["1", "1", "", "", "1500", ...base.slice(5)]), "f", Date.UTC(2025, 0, 1, 0, 0, 2));
    expect(rec).toMatchObject({ durationMs: 1500, startedAt: "2025-01-01T00:00:00.500Z", tmux: { socket: "/tmp/tmux-0/default", pane: "%3" }, promptLines: 2 });
  });

  it("reads EPOCHREALTIME with a decimal comma (some locales)", () => {
    const rec = parseState(state(["0", "0", "1700000000,100000", "1700000000,350000", ...base.slice(4)]), "f", 0);
    expect(rec?.durationMs).toBe(250);
  });
});

describe("readLastCommand()", () => {
  it.each([
    { name: "the latest pointer", file: "latest", content: "4242", initial: "" },
    { name: "the state file", file: "4242.last", content: state(base), initial: state(base).slice(0, 9) },
  ])("waits out a shell caught between truncating and writing $name", async ({ file, content, initial }) => {
    const dir = mkdtempSync(join(tmpdir(), "opsterm-state-"));
    writeFileSync(join(dir, "4242.last"), state(base));
    writeFileSync(join(dir, "latest"), "4242");
    writeFileSync(join(dir, file), initial);
    // Another process finishes the write a moment later, as the shell would; the read blocks meanwhile.
    writeFileSync(join(dir, "next"), content);
    const writer = spawn("sh", ["-c", 'sleep 0.02; cat "$1" > "$2"', "sh", join(dir, "next"), join(dir, file)]);
    await new Promise((resolve) => writer.once("spawn", resolve));
    expect(readLastCommand(dir)).toMatchObject({ command: "ls", shell: "fish", exitCode: 1 });
    await new Promise((resolve) => writer.once("close", resolve));
  });
});

describe("trimPane()", () => {
  it.each([
    {
      name: "cuts to the output between the command line and the next prompt",
      pane: "P$ old\nold-out\nP$ make all\ncc -o x\nerror: boom\nP$ opsterm last\n\n\n",
      command: "make all",
      prompt: 1,
      want: { text: "cc -o x\nerror: boom", trimmed: true },
    },
    {
      name: "skips the continuation lines of a multi-line command",
      pane: "P$ echo \"a\n> b\"\na\nb\nP$\n",
      command: 'echo "a\nb"',
      prompt: 1,
      want: { text: "a\nb", trimmed: true },
    },
    {
      name: "drops a two-line prompt",
      pane: "~/src\n$ false\n~/src\n$ opsterm last\n",
      command: "false",
      prompt: 2,
      want: { text: "", trimmed: true },
    },
    {
      name: "returns the screen untrimmed when the command line scrolled away",
      pane: "out1\nout2\nP$\n",
      command: "make",
      prompt: 1,
      want: { text: "out1\nout2", trimmed: false },
    },
  ])("$name", ({ pane, command, prompt, want }) => {
    expect(trimPane(pane, command, prompt)).toEqual(want);
  });
});

describe("stripControl()", () => {
  it("removes colours, OSC titles and carriage-return progress", () => {
    expect(stripControl("\x1b]0;title\x07\x1b[1;31mred\x1b[0m 10%\r50%\r\n")).toBe("red 10%\n50%\n");
  });
});

