/**
 * Streamed tool calls: fragments put back together by index, falling back to id, in the shapes
 * OpenAI, Ollama and llama.cpp's server send; through the real client over HTTP (SSE and JSON),
 * cut through UTF-8 and data: lines; and a model without tool support gets a clear error.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { complete, type CompletionRequest } from "../../../plugins/chat/client.ts";
import { createToolCallAccumulator } from "../../../plugins/chat/tool-calls.ts";
import { sseData, splitBytes, startFakeAi, toolCallChunks, type Dialect, type FakeAi } from "../../helpers/fake-ai-server.ts";

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => ai.reset());

const TOOLS = [{ type: "function", function: { name: "remote_exec", description: "run", parameters: { type: "object" } } }];

function req(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return { baseUrl: ai.baseUrl, model: "fake", messages: [{ role: "user", content: "hi" }], stream: true, connectTimeoutMs: 5000, idleTimeoutMs: 5000, retries: 0, backoffMs: 10, tools: TOOLS, ...overrides };
}

const CALLS = [
  { name: "remote_exec", args: { server: "web1", command: "df -h" }, id: "call_a" },
  { name: "remote_read_file", args: { server: "web1", path: "/etc/nginx/nginx.conf", offset: 0 }, id: "call_b" },
  { name: "remote_stat", args: { server: "db1", path: "/var/lib/postgresql" }, id: "call_c" },
];

describe("the accumulator", () => {
  it("OpenAI: interleaved fragments by index, the id and name only in the first", () => {
    const acc = createToolCallAccumulator();
    acc.push([{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "" } }]);
    acc.push([{ index: 1, id: "b", type: "function", function: { name: "g", arguments: '{"x"' } }]);
    acc.push([{ index: 0, function: { arguments: '{"y":' } }]);
    acc.push([{ index: 1, function: { arguments: ":1}" } }]);
    acc.push([{ index: 0, function: { arguments: "2}" } }]);
    expect(acc.calls()).toEqual([
      { id: "a", type: "function", function: { name: "f", arguments: '{"y":2}' } },
      { id: "b", type: "function", function: { name: "g", arguments: '{"x":1}' } },
    ]);
  });

  it("Ollama: index 0 for every call, each whole with its own id; or no index and no id at all", () => {
    const acc = createToolCallAccumulator();
    acc.push([
      { index: 0, id: "a", function: { name: "f", arguments: '{"n":1}' } },
      { index: 0, id: "b", function: { name: "f", arguments: '{"n":2}' } },
    ]);
    acc.push([{ index: 0, id: "c", function: { name: "g", arguments: { n: 3 } } }]);
    expect(acc.calls().map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ["a", "f", '{"n":1}'],
      ["b", "f", '{"n":2}'],
      ["c", "g", '{"n":3}'],
    ]);
    const bare = createToolCallAccumulator();
    bare.push([{ function: { name: "f", arguments: '{"n":1}' } }]);
    bare.push([{ function: { name: "f", arguments: '{"n":2}' } }]);
    expect(bare.calls().map((c) => [c.id, c.function.arguments])).toEqual([
      ["call_0", '{"n":1}'],
      ["call_1", '{"n":2}'],
    ]);
  });

  it("llama.cpp: the id repeated in later fragments, or only in the first; no index at all", () => {
    const acc = createToolCallAccumulator();
    acc.push([{ index: 0, id: "x", function: { name: "f", arguments: "{" } }]);
    acc.push([{ index: 0, id: "x", function: { arguments: '"a":1' } }]);
    acc.push([{ index: 0, function: { arguments: "}" } }]);
    expect(acc.calls()).toEqual([{ id: "x", type: "function", function: { name: "f", arguments: '{"a":1}' } }]);
    const noIndex = createToolCallAccumulator();
    noIndex.push([{ id: "p", function: { name: "f", arguments: "{" } }]);
    noIndex.push([{ function: { arguments: "}" } }]);
    noIndex.push([{ id: "q", function: { name: "g", arguments: "{}" } }]);
    expect(noIndex.calls().map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ["p", "f", "{}"],
      ["q", "g", "{}"],
    ]);
  });

  it("ignores what is not a fragment", () => {
    const acc = createToolCallAccumulator();
    acc.push(undefined);
    acc.push("x");
    acc.push([null, 3]);
    expect(acc.calls()).toEqual([]);
  });
});

describe("through the client", () => {
  for (const dialect of ["openai", "ollama", "llamacpp"] as Dialect[]) {
    it(`${dialect}: every call whole and in order, usage counted, also cut into 13- and 5-byte pieces`, async () => {
      const chunks = toolCallChunks(CALLS, dialect);
      for (const size of [Infinity, 13, 5]) {
        ai.reset();
        const body = chunks.join("");
        ai.enqueue({ kind: "sse", chunks: size === Infinity ? chunks : splitBytes(body, size), delayMs: 0 });
        const r = await complete(req());
        expect(r.finishReason).toBe("tool_calls");
        expect(r.toolCalls.map((c) => ({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) }))).toEqual(CALLS.map((c) => ({ id: c.id, name: c.name, args: c.args })));
        if (dialect !== "ollama") expect(r.usage).toEqual({ promptTokens: 100, completionTokens: 30 });
        else expect(r.usage).toBeUndefined();
      }
      expect(ai.chats()[0].body?.tools).toEqual(TOOLS);
    });
  }

  it("a JSON (non-streamed) answer with tool calls and null content", async () => {
    ai.enqueue({ kind: "json", body: { choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "z", type: "function", function: { name: "remote_stat", arguments: '{"server":"a","path":"/"}' } }] }, finish_reason: "tool_calls" }] } });
    const r = await complete(req({ stream: false }));
    expect(r.content).toBe("");
    expect(r.toolCalls).toEqual([{ id: "z", type: "function", function: { name: "remote_stat", arguments: '{"server":"a","path":"/"}' } }]);
  });

  it("a stream that ends without a finish reason is incomplete, tool calls or not", async () => {
    const chunks = toolCallChunks(CALLS.slice(0, 1), "openai").filter((c) => !c.includes("finish_reason\":\"tool_calls") && !c.includes("[DONE]"));
    ai.enqueue({ kind: "sse", chunks });
    await expect(complete(req())).rejects.toMatchObject({ code: "E_CHAT_INCOMPLETE" });
  });

  it("a model without tool support: E_CHAT_NO_TOOLS, one clear line (Ollama's and llama.cpp's wording)", async () => {
    ai.enqueue({ kind: "json", status: 400, body: { error: { message: "registry.ollama.ai/library/gemma:2b does not support tools", type: "api_error" } } });
    await expect(complete(req())).rejects.toMatchObject({ code: "E_CHAT_NO_TOOLS", exitCode: 69, message: expect.stringContaining("cannot call tools") });
    ai.enqueue({ kind: "json", status: 500, body: { error: { code: 500, message: "tools param requires --jinja flag", type: "server_error" } } });
    await expect(complete(req())).rejects.toMatchObject({ code: "E_CHAT_NO_TOOLS" });
    // Without tools in the request, the same words are an ordinary HTTP error.
    ai.enqueue({ kind: "json", status: 400, body: { error: { message: "does not support tools" } } });
    await expect(complete(req({ tools: undefined }))).rejects.toMatchObject({ code: "E_CHAT_HTTP" });
  });

  it("text answers still stream as before, with no tool calls", async () => {
    ai.enqueue({ kind: "sse", chunks: [sseData({ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] }), sseData("[DONE]")] });
    const r = await complete(req());
    expect(r).toMatchObject({ content: "hi", toolCalls: [] });
  });
});
