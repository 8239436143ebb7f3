/**
 * Piped input is cut to a byte cap and a token budget before the chat request is redacted: a cut
 * must never leave half a secret behind (the half no longer matches a pattern and would reach the
 * provider). Every cut position across a token is tried.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { fitText, readPipeInput } from "../../../plugins/chat/pipe-input.ts";
import { createRedactor } from "../../../src/lib/redact.ts";

const TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
/** Any 8 consecutive characters of the token's random part showing up is a leak. */
function leaks(text: string): string | undefined {
  const body = TOKEN.slice(4);
  for (let i = 0; i + 8 <= body.length; i++) if (text.includes(body.slice(i, i + 8))) return body.slice(i, i + 8);
  return undefined;
}

describe("piped input cut to size never leaves part of a secret", () => {
  it("fitText() drops the partial word at both cuts, wherever the cut falls", () => {
    const text = `${"log line ok\n".repeat(20)}token=${TOKEN} more\n${"log line ok\n".repeat(20)}${TOKEN}\n${"log line ok\n".repeat(20)}`;
    for (let max = 100; max < text.length; max += 3) {
      const fitted = fitText(text, undefined, 0, max);
      const sent = createRedactor().redact(fitted.text).text;
      expect({ max, leak: leaks(sent) }).toEqual({ max, leak: undefined });
      expect(fitted.text.length).toBeLessThanOrEqual(max + 80);
    }
  });

  it("readPipeInput() over the byte cap: the head/tail edges of the stream are cut at whole words", async () => {
    for (let shift = 0; shift < 48; shift += 4) {
      const body = `${"x ".repeat(240 + shift / 2)}${TOKEN} ${"y ".repeat(2000)}${TOKEN} ${"z ".repeat(250)}`;
      const input = await readPipeInput(Readable.from([Buffer.from(body)]), { maxBytes: 1000, maxTokens: 100_000 });
      expect(input.truncated).toBe(true);
      const sent = createRedactor().redact(input.text).text;
      expect({ shift, leak: leaks(sent) }).toEqual({ shift, leak: undefined });
    }
  });
});
