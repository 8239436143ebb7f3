/**
 * The shell integration in real bash, zsh and fish, each in its own tmux server: init through the
 * CLI, commands typed with send-keys, `opsterm last --json` read back, `opsterm explain-last`
 * against a real chat-completions server, the insert key binding, the capture wrapper, file modes.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { runInProcess } from "../../helpers/run-cli.ts";
import { startShell, waitFor, type ShellKind, type TmuxShell } from "../../helpers/tmux-shell.ts";
import { readStateFile } from "../../../plugins/shell/state.ts";
import type { LastCommand } from "../../../plugins/shell/types.ts";

const INIT: Record<ShellKind, string> = {
  bash: 'eval "$(opsterm init bash)"',
  zsh: 'eval "$(opsterm init zsh)"',
  fish: "opsterm init fish | source",
};

let shell: TmuxShell | undefined;
let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
afterEach(() => {
  shell?.close();
  shell = undefined;
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Waits until the shell recorded a command (other than `previous`) and returns it. */
async function nextRecord(sh: TmuxShell, stateFile: () => string | undefined, previous: LastCommand | undefined, what: string): Promise<LastCommand> {
  return waitFor(
    what,
    () => {
      const file = stateFile();
      const rec = file ? readStateFile(file) : undefined;
      if (!rec) return undefined;
      if (previous && rec.startedAt === previous.startedAt && rec.command === previous.command && rec.exitCode === previous.exitCode && rec.durationMs === previous.durationMs) return undefined;
      return rec;
    },
    15_000,
    () => sh.capture(),
  );
}

describe.each(["bash", "zsh", "fish"] as const)("opsterm init %s", (kind) => {
  it(`records command, exit status and cwd in real ${kind}; last --json, key binding and capture wrapper work`, async () => {
    const aiEnv = { OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" };
    shell = startShell(kind, { env: kind === "bash" ? { ...aiEnv, HISTCONTROL: "ignoreboth" } : aiEnv });
    const sh = shell;
    const dataDir = join(sh.home, "opsterm");
    const shellDir = join(dataDir, "shell");
    const workDir = join(sh.home, "work dir");
    mkdirSync(workDir);
    let pid = "";
    const stateFile = () => {
      if (!pid && existsSync(join(shellDir, "latest"))) pid = readFileSync(join(shellDir, "latest"), "utf8");
      return pid ? join(shellDir, `${pid}.last`) : undefined;
    };

    if (kind === "bash") {
      // An existing PROMPT_COMMAND and DEBUG trap must keep working.
      sh.run(`PROMPT_COMMAND='echo x >> "$HOME/pc"'; trap 'dbg=$((dbg+1))' DEBUG`);
    }
    sh.run(INIT[kind]);
    sh.run(`cd "$HOME/work dir"`);
    const cd = await nextRecord(sh, stateFile, undefined, "the cd to be recorded");
    expect(cd.command).toBe(`cd "$HOME/work dir"`);
    expect(mode(shellDir)).toBe(0o700);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(stateFile()!)).toBe(0o600);
    expect(mode(join(shellDir, "latest"))).toBe(0o600);

    // A failing command with output.
    sh.run(`printf 'out-%s\\n' one two; sh -c 'exit 3'`);
    const failed = await nextRecord(sh, stateFile, cd, "the failing command");
    expect(failed).toMatchObject({ command: `printf 'out-%s\\n' one two; sh -c 'exit 3'`, exitCode: 3, cwd: workDir, shell: kind, hidden: false });
    expect(failed.tmux?.pane).toMatch(/^%\d+$/);
    expect(Date.parse(failed.startedAt)).toBeGreaterThan(Date.now() - 60_000);

    const last = await runInProcess(["last", "--json"], { home: dataDir });
    expect(last.stderr).toBe("");
    const json = JSON.parse(last.stdout);
    expect(json).toMatchObject({ command: failed.command, exitCode: 3, cwd: workDir, shell: kind });
    expect(json.output).toMatchObject({ source: "tmux", trimmed: true, text: "out-one\nout-two" });

    // Quotes and a newline inside the command line.
    const quoted = `echo "it's a\nsecond line" 'x"y'`;
    sh.run(quoted);
    const multi = await nextRecord(sh, stateFile, failed, "the multi-line command");
    expect(multi).toMatchObject({ command: quoted, exitCode: 0 });
    const multiJson = JSON.parse((await runInProcess(["last", "--json"], { home: dataDir })).stdout);
    expect(multiJson.output.text).toBe(`it's a\nsecond line x"y`);

    // A command that starts with a space is recorded without its text (like shell history).
    sh.run(" echo top-secret-value");
    const hidden = await nextRecord(sh, stateFile, multi, "the hidden command");
    expect(hidden).toMatchObject({ command: "", hidden: true, exitCode: 0 });
    expect(readFileSync(stateFile()!, "utf8")).not.toContain("top-secret-value");

    // explain-last from inside the shell, about the private command: neither its text nor the
    // screen that shows it is sent. The model's fix is saved for the key binding.
    ai.enqueue(ai.stream(["It printed a value.\n", "```sh\necho inserted-'4''2'\n```\n"]));
    sh.run("opsterm explain-last");
    const explained = await nextRecord(sh, stateFile, hidden, "explain-last to finish");
    expect(explained, sh.capture()).toMatchObject({ command: "opsterm explain-last", exitCode: 0 });
    const sent = ai.chats().at(-1)?.body?.messages?.at(-1)?.content ?? "";
    expect(sent).toContain("The command line itself is private");
    expect(sent).toContain("Its output was not captured.");
    expect(sent).not.toContain("top-secret-value");
    expect(sh.capture()).toMatch(/^It printed a value\.$/m);
    expect(mode(join(shellDir, "suggestion"))).toBe(0o600);

    // The key binding inserts the saved suggestion into the editing buffer; Enter runs it.
    sh.keys("M-o");
    await waitFor("the suggestion in the prompt", () => (/^P\$ echo inserted-'4''2'\s*$/m.test(sh.capture()) ? true : undefined), 10_000, () => sh.capture());
    sh.keys("Enter");
    const inserted = await nextRecord(sh, stateFile, explained, "the inserted command");
    expect(inserted.command).toBe("echo inserted-'4''2'");
    expect(sh.capture()).toMatch(/^inserted-42$/m);

    // The opt-in capture wrapper.
    sh.run(`oc sh -c 'echo cap-out; echo cap-err >&2; exit 4'`);
    const captured = await nextRecord(sh, stateFile, inserted, "the captured command");
    expect(captured).toMatchObject({ exitCode: 4, captured: true });
    expect(mode(join(shellDir, `${pid}.out`))).toBe(0o600);

    // `opsterm last` inside the shell picks this session (OPSTERM_SHELL_SESSION).
    sh.run(`opsterm last --json >| "$HOME/last.json"`.replace(">|", kind === "fish" ? ">" : ">|"));
    const inShell = await waitFor("last.json", () => {
      try {
        return JSON.parse(readFileSync(join(sh.home, "last.json"), "utf8"));
      } catch {
        return undefined;
      }
    }, 20_000, () => sh.capture());
    expect(inShell).toMatchObject({ command: captured.command, exitCode: 4, pid: Number(pid), captured: true });
    expect(inShell.output).toMatchObject({ source: "capture" });
    expect(inShell.output.text.split("\n").sort()).toEqual(["cap-err", "cap-out"]);

    if (kind === "bash") {
      // The user's PROMPT_COMMAND ran at every prompt, their DEBUG trap still counts.
      expect(readFileSync(join(sh.home, "pc"), "utf8").split("\n").length).toBeGreaterThan(5);
      sh.run(`echo "dbg=$dbg"`);
      await waitFor("the DEBUG trap counter", () => (/^dbg=[1-9]\d*$/m.test(sh.capture()) ? true : undefined), 10_000, () => sh.capture());
    }
  }, 60_000);
});
