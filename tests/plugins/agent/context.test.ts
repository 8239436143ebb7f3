/**
 * What of a long conversation is sent: the oldest whole exchanges go first, a tool call is never
 * sent without its result, and the current exchange always goes.
 */
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../src/kernel/index.ts";
import { fitContext } from "../../../plugins/agent/session.ts";

const big = "x".repeat(4000); // ~1000 tokens
const exchange = (n: number): ChatMessage[] => [
  { role: "user", content: `q${n}` },
  { role: "assistant", content: "", tool_calls: [{ id: `c${n}`, type: "function", function: { name: "remote_stat", arguments: "{}" } }] },
  { role: "tool", tool_call_id: `c${n}`, content: big },
  { role: "assistant", content: `a${n}` },
];

describe("fitContext", () => {
  it("keeps everything that fits", () => {
    const all = [...exchange(1), ...exchange(2)];
    expect(fitContext(all, 10_000)).toBe(all);
  });

  it("drops the oldest exchanges whole, never splitting a call from its result", () => {
    const all = [...exchange(1), ...exchange(2), ...exchange(3), { role: "user" as const, content: "now" }];
    const kept = fitContext(all, 1500);
    expect(kept[0]).toEqual({ role: "user", content: "q3" });
    expect(kept.map((m) => m.content.slice(0, 3))).toEqual(["q3", "", "xxx", "a3", "now"]);
  });

  it("always sends the current exchange, even when it alone is too big", () => {
    const all = [...exchange(1), ...exchange(2)];
    expect(fitContext(all, 10)).toEqual(exchange(2));
  });
});
