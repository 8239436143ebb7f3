import { describe, expect, it } from "vitest";
import { createSseParser } from "../../../plugins/chat/sse.ts";

function feed(parts: (string | Uint8Array)[]): string[] {
  const p = createSseParser();
  const out: string[] = [];
  for (const part of parts) out.push(...p.push(typeof part === "string" ? new TextEncoder().encode(part) : part).map((e) => e.data));
  out.push(...p.end().map((e) => e.data));
  return out;
}

describe("createSseParser()", () => {
  it("parses events split inside data: lines and inside UTF-8 sequences", () => {
    const text = 'data: {"t":"héllo ✓ 😀"}\n\ndata: [DONE]\n\n';
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 5, 7]) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
      expect(feed(parts)).toEqual(['{"t":"héllo ✓ 😀"}', "[DONE]"]);
    }
  });

  it("handles \\r\\n, a \\r\\n split across chunks, and bare \\r", () => {
    expect(feed(["data: a\r", "\n\r", "\ndata: b\r\rdata: c\n\n"])).toEqual(["a", "b", "c"]);
  });

  it("emits a final event that has no trailing blank line", () => {
    expect(feed(["data: one\n\ndata: last"])).toEqual(["one", "last"]);
  });

  it("ignores comments, unknown fields and garbage lines; joins multi-line data", () => {
    expect(feed([": keep-alive\n", "garbage line\nid: 4\nretry: 10\nevent: msg\ndata: x\ndata: y\n\n"])).toEqual(["x\ny"]);
  });
});
