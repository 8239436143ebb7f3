/**
 * Questions on a real terminal (a pty), drawn by consola: the Modify prompt shows what is typed
 * once, however many prompts came before; with stdin piped, questions are read from /dev/tty.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";
import { requireBuilt, tempDir } from "../helpers/binary.ts";
import { runOnTty } from "../helpers/pty.ts";

const UP = "\x1b[A";
let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());

const env = (home: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, OPSTERM_HOME: home, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m", NO_COLOR: "1" });

/** The text after the last "Command:" answer line, as drawn on submit ("✔ Command:" then the value). */
const submitted = (output: string) => [...output.matchAll(/✔ Command:\r?\n([^\r\n]*)/g)].map((m) => m[1]);

describe("prompts on a terminal (built binary)", () => {
  it("Modify twice: the typed text is echoed once each time, and the edited command is what is offered next", async () => {
    const home = tempDir("opsterm-prompts-");
    ai.enqueue(ai.stream(["Try:\n", "```bash\ndf -h /var\n```\n"]));
    // Abort is the default; two steps up is Modify. The Command prompt is pre-filled with the command.
    const r = await runOnTty(["why is /var full"], env(home), [
      { when: /What now\?[\s\S]*Abort/, send: UP + UP },
      { when: /Command:/, send: " XYZ" },
      { when: /What now\?[\s\S]*Abort/, send: UP + UP },
      { when: /Command:/, send: " ABC" },
      { when: /What now\?[\s\S]*Abort/, send: "" },
    ], { binary: requireBuilt() });
    expect(r.code).toBe(0);
    expect(submitted(r.output)).toEqual(["df -h /var XYZ", "df -h /var XYZ ABC"]);
    // The old readline prompt echoed each key twice, then three times …
    expect(r.output).not.toMatch(/XXYY|AABB|AAABBB/);
    expect(r.output).toContain("df -h /var XYZ ABC\r\n  policy:");
    expect(r.output).not.toContain("Filesystem"); // aborted: nothing ran
  }, 40_000);

  it("with stdin piped (pipe mode), the question is still asked and answered on the terminal", async () => {
    const home = tempDir("opsterm-prompts-");
    ai.enqueue(ai.stream(["Run:\n", "```bash\nuname -s\n```\n"]));
    // Up three times from Abort is Execute.
    const r = await runOnTty(["what is this"], env(home), [{ when: /What now\?[\s\S]*Abort/, send: UP + UP + UP }], { binary: requireBuilt(), pipeIn: "some log line\n" });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/✔ What now\?\r?\nExecute/);
    expect(r.output).toMatch(/Linux/);
    expect(ai.requests.at(-1)!.raw).toContain("some log line");
  }, 40_000);
});
