import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { neutralise, readPipeInput } from "../../../plugins/chat/pipe-input.ts";

/** An endless-looking stream produced on demand: nothing is ever held in full. */
function generated(totalBytes: number, line = "2024-01-01 service[1]: request ok id=0123456789\n"): { stream: Readable; produced: () => number } {
  let produced = 0;
  const chunk = Buffer.from(line.repeat(Math.ceil(65536 / line.length)));
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) return void this.push(null);
      const piece = chunk.subarray(0, Math.min(chunk.length, totalBytes - produced));
      produced += piece.length;
      this.push(piece);
    },
  });
  return { stream, produced: () => produced };
}

describe("readPipeInput()", () => {
  it("keeps small input whole", async () => {
    const input = await readPipeInput(Readable.from([Buffer.from("line 1\nline 2\n")]), { maxBytes: 1024, maxTokens: 1000 });
    expect(input).toMatchObject({ text: "line 1\nline 2\n", truncated: false, bytesRead: 14 });
  });

  it("keeps head and tail with a visible marker when over the byte cap", async () => {
    const body = "HEAD\n" + "x".repeat(10_000) + "\nTAIL\n";
    const input = await readPipeInput(Readable.from([Buffer.from(body)]), { maxBytes: 1000, maxTokens: 100_000 });
    expect(input.truncated).toBe(true);
    expect(input.text.startsWith("HEAD\n")).toBe(true);
    expect(input.text.endsWith("\nTAIL\n")).toBe(true);
    expect(input.text).toMatch(/\[… opsterm: \d\.\d KiB of input omitted here …\]/);
    expect(input.text.length).toBeLessThan(1200);
  });

  it("fits the text to the token budget even below the byte cap", async () => {
    const input = await readPipeInput(Readable.from([Buffer.from("a".repeat(50_000))]), { maxBytes: 1 << 20, maxTokens: 500 });
    expect(input.truncated).toBe(true);
    expect(input.text.length).toBeLessThan(500 * 4 + 100);
  });

  it("stops reading a 1 GB stream at the read limit with bounded memory", async () => {
    const gen = generated(1024 ** 3);
    const before = process.memoryUsage().rss;
    const input = await readPipeInput(gen.stream, { maxBytes: 64 * 1024, readLimit: 8 * 1024 * 1024, maxTokens: 100_000 });
    expect(input.stoppedEarly).toBe(true);
    expect(gen.produced()).toBeLessThan(16 * 1024 * 1024);
    expect(input.text).toContain("stopped reading after 8.0 MiB");
    expect(input.text.length).toBeLessThan(70 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it("flags binary input and replaces control bytes", async () => {
    const input = await readPipeInput(Readable.from([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0x41])]), { maxBytes: 1024, maxTokens: 1000 });
    expect(input.binary).toBe(true);
    expect(input.text).not.toMatch(/[\x00-\x08]/);
  });
});

describe("neutralise()", () => {
  it.each([
    { name: "colour codes", input: "\x1b[31mred\x1b[0m text", output: "red text" },
    { name: "OSC title + hyperlink", input: "\x1b]0;title\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", output: "alink" },
    { name: "progress bar carriage returns", input: "10%\r50%\r100%\ndone\r\n", output: "100%\ndone\n" },
    { name: "C0 and C1 controls", input: "a\x07b\x85c", output: "a\uFFFDb\uFFFDc" },
  ])("removes $name", ({ input, output }) => {
    expect(neutralise(input).text).toBe(output);
  });
});
