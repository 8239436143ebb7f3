import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { tempDir } from "../../helpers/run-cli.ts";

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());

/** Runs the CLI under a real pseudo-terminal (util-linux `script`), typing `input` once the output matches `when`. */
function inPty(args: string, when: RegExp, input: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn("script", ["-qec", `${process.execPath} --import tsx src/main.ts ${args}`, "/dev/null"], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, TERM: "xterm", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c;
    if (when.test(out) && child.stdin.writable) child.stdin.end(input);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
}

describe("ask on a terminal", () => {
  it("shows a spinner until the first token, renders markdown, and offers the command with its policy decision", async () => {
    const home = tempDir("opsterm-tty-");
    ai.enqueue({ ...(ai.stream(["# Disk\n", "Check **usage**:\n", "```bash\ndf -h /var\n```\n"]) as { kind: "sse"; chunks: string[] }), delayMs: 150 });
    // Enter at the "What now?" question keeps its default, Abort.
    const r = await inPty("why is the disk full", /What now\?[\s\S]*Abort/, "\r", { HOME: home, OPSTERM_HOME: home, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "m" });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/⠋ thinking…/);
    expect(r.out).toContain("\x1b[1mDisk\x1b[22m");
    expect(r.out).toContain("Check \x1b[1musage\x1b[22m:");
    expect(r.out).toContain("Suggested command 1/1");
    expect(r.out).toMatch(/policy: .*(auto-allow|approval-required|reject)/);
    expect(r.out).not.toContain("Filesystem"); // Abort (or no offer): df never ran
  });
});
