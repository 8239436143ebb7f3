import { describe, expect, it } from "vitest";
import { extractCommands } from "../../src/lib/suggested-commands.ts";

describe("extractCommands()", () => {
  it("takes fenced bash/sh blocks and $ lines, not other languages", () => {
    const answer = [
      "Check the disk:",
      "```bash",
      "df -h /var",
      "```",
      "Then:",
      "$ du -sh /var/log/* | sort -h",
      "```python",
      "print('no')",
      "```",
      "```sh",
      "journalctl --vacuum-size=200M",
      "```",
    ].join("\n");
    expect(extractCommands(answer)).toEqual(["df -h /var", "du -sh /var/log/* | sort -h", "journalctl --vacuum-size=200M"]);
  });

  it("keeps a multi-line block as one command and strips $ prompts in transcripts", () => {
    const answer = "```bash\nfor f in *.log; do\n  gzip \"$f\"\ndone\n```\n```console\n$ uptime\n 10:00 up 3 days\n```";
    expect(extractCommands(answer)).toEqual(['for f in *.log; do\n  gzip "$f"\ndone', "uptime"]);
  });

  it("ignores an unterminated fence (an answer that was cut off)", () => {
    expect(extractCommands("```bash\nrm -rf /var/lib/dock")).toEqual([]);
  });

  it("removes duplicates", () => {
    expect(extractCommands("```bash\nuptime\n```\n$ uptime")).toEqual(["uptime"]);
  });
});

describe("extractCommands()[0]: the first suggestion (explain-last)", () => {
  it.each([
    { answer: "Do this:\n```sh\n$ systemctl restart nginx\n```", want: "systemctl restart nginx" },
    { answer: "```json\n{}\n```\n```bash\n# comment\ndf -h\n```", want: "df -h" },
    { answer: "```\nls -la\n```", want: "ls -la" },
    { answer: "No command needed.", want: undefined },
  ])("finds $want", ({ answer, want }) => {
    expect(extractCommands(answer)[0]).toBe(want);
  });
});
