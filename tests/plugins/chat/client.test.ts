import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { complete, type CompletionRequest } from "../../../plugins/chat/client.ts";
import { delta, sseData, splitBytes, startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";

const KEY = "sk-test-THE-SECRET-KEY-0123456789";
let ai: FakeAi;

beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());
beforeEach(() => {
  ai.reset();
});

function req(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    baseUrl: ai.baseUrl,
    model: "fake",
    apiKey: KEY,
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    retries: 2,
    backoffMs: 10,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string; exitCode: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; hint?: string; exitCode: number };
  }
  throw new Error("expected a failure");
}

describe("complete()", () => {
  it("streams an answer split inside UTF-8 sequences and data: lines, with the right auth header", async () => {
    const body = sseData(delta("Grüße ")) + sseData(delta("✓ 😀")) + sseData({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) + "data: [DONE]\n\n";
    ai.enqueue({ kind: "sse", chunks: splitBytes(body, 3) });
    const tokens: string[] = [];
    const result = await complete(req({ onToken: (t) => tokens.push(t) }));
    expect(result).toMatchObject({ content: "Grüße ✓ 😀", finishReason: "stop", truncated: false, attempts: 1 });
    expect(tokens).toEqual(["Grüße ", "✓ 😀"]);
    expect(ai.chats()[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(ai.chats()[0].body).toMatchObject({ model: "fake", stream: true, messages: [{ role: "user", content: "hi" }] });
  });

  it("accepts \\r\\n line ends, garbage lines and a final event without a blank line", async () => {
    const chunks = ["data: " + JSON.stringify(delta("a")) + "\r\n\r\n", "this is not sse\r\n", ": ping\r\n\r\n", "data: " + JSON.stringify(delta("b", "stop"))];
    ai.enqueue({ kind: "sse", chunks });
    expect(await complete(req())).toMatchObject({ content: "ab", finishReason: "stop" });
  });

  it("retries a 429 honouring retry-after (seconds)", async () => {
    ai.enqueue({ kind: "json", status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down", type: "rate_limit" } } }, ai.stream(["fine"]));
    const started = Date.now();
    const result = await complete(req());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result).toMatchObject({ content: "fine", attempts: 2 });
  });

  it("retries a 500 then succeeds; honours retry-after-ms", async () => {
    ai.enqueue({ kind: "json", status: 500, headers: { "retry-after-ms": "30" }, body: { error: { message: "boom" } } }, ai.stream(["recovered"]));
    const retries: number[] = [];
    const result = await complete(req({ onRetry: (r) => retries.push(r.delayMs) }));
    expect(result).toMatchObject({ content: "recovered", attempts: 2 });
    expect(retries).toEqual([30]);
  });

  it.each([408, 409, 429, 500, 502, 503, 504])("retries HTTP %i, then succeeds", async (status) => {
    ai.enqueue({ kind: "json", status, body: { error: { message: `status ${status}` } } }, ai.stream(["second time"]));
    const result = await complete(req());
    expect(result).toMatchObject({ content: "second time", attempts: 2 });
    expect(ai.chats()).toHaveLength(2);
  });

  it.each([
    { status: 400, code: "E_CHAT_HTTP" },
    { status: 403, code: "E_CHAT_AUTH" },
    { status: 404, code: "E_CHAT_HTTP" },
    { status: 422, code: "E_CHAT_HTTP" },
  ])("never retries HTTP $status ($code)", async ({ status, code }) => {
    ai.enqueue({ kind: "json", status, body: { error: { message: `status ${status}` } } }, ai.stream(["never sent"]));
    const e = await failure(complete(req()));
    expect(e.code).toBe(code);
    expect(ai.chats()).toHaveLength(1);
  });

  it("times out a provider that accepts the request but never answers, retrying within the bound", async () => {
    ai.enqueue({ kind: "hang" }, { kind: "hang" });
    const started = Date.now();
    const e = await failure(complete(req({ connectTimeoutMs: 150, retries: 1 })));
    expect(e).toMatchObject({ code: "E_CHAT_TIMEOUT", exitCode: 75 });
    expect(e.message).toContain("No answer from");
    expect(ai.chats()).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("gives up after the bounded number of retries", async () => {
    for (let i = 0; i < 3; i++) ai.enqueue({ kind: "json", status: 503, body: { error: { message: "overloaded" } } });
    const e = await failure(complete(req({ retries: 2 })));
    expect(e).toMatchObject({ code: "E_CHAT_HTTP", exitCode: 69 });
    expect(ai.chats()).toHaveLength(3);
  });

  it("never retries insufficient_quota", async () => {
    ai.enqueue({ kind: "json", status: 429, body: { error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } } });
    const e = await failure(complete(req()));
    expect(e).toMatchObject({ code: "E_CHAT_QUOTA" });
    expect(ai.chats()).toHaveLength(1);
  });

  it("never retries 401 and never repeats the key the provider echoes", async () => {
    ai.enqueue({ kind: "json", status: 401, body: { error: { message: `Incorrect API key provided: ${KEY}` } } });
    const e = await failure(complete(req()));
    expect(e).toMatchObject({ code: "E_CHAT_AUTH", exitCode: 78 });
    expect(JSON.stringify({ m: e.message, h: e.hint })).not.toContain(KEY);
    expect(e.message).toContain("[REDACTED:api-key]");
    expect(ai.chats()).toHaveLength(1);
  });

  it("reports an HTML error page by its title, not its markup", async () => {
    const html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>";
    ai.enqueue({ kind: "text", status: 502, body: html }, { kind: "text", status: 502, body: html });
    const e = await failure(complete(req({ retries: 1 })));
    expect(e.message).toContain('HTML error page: "502 Bad Gateway"');
    expect(e.message).not.toContain("<h1>");
  });

  it("fails with an idle timeout on a mid-stream stall and does not retry after output started", async () => {
    ai.enqueue({ kind: "sse", chunks: [sseData(delta("partial "))], stall: true });
    const tokens: string[] = [];
    const started = Date.now();
    const e = await failure(complete(req({ idleTimeoutMs: 300, onToken: (t) => tokens.push(t) })));
    expect(e).toMatchObject({ code: "E_CHAT_IDLE", exitCode: 75 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(tokens).toEqual(["partial "]);
    expect(ai.chats()).toHaveLength(1);
  });

  it("calls a stream without finish_reason an incomplete answer", async () => {
    ai.enqueue(ai.stream(["half an ans"], { finish: null, done: false }));
    const e = await failure(complete(req()));
    expect(e).toMatchObject({ code: "E_CHAT_INCOMPLETE" });
    expect(e.message).toContain("Incomplete answer");
  });

  it("surfaces an in-stream error", async () => {
    ai.enqueue({ kind: "sse", chunks: [sseData(delta("x")), sseData({ error: { message: "model overloaded mid-answer" } })] });
    const e = await failure(complete(req()));
    expect(e).toMatchObject({ code: "E_CHAT_STREAM_ERROR" });
    expect(e.message).toContain("model overloaded mid-answer");
  });

  it("reports finish_reason length as truncated", async () => {
    ai.enqueue(ai.stream(["cut"], { finish: "length" }));
    expect(await complete(req())).toMatchObject({ truncated: true, finishReason: "length" });
  });

  it("reads a non-streaming JSON answer", async () => {
    ai.enqueue(ai.answer("whole answer"));
    expect(await complete(req({ stream: false }))).toMatchObject({ content: "whole answer", finishReason: "stop", usage: { promptTokens: 10 } });
    expect(ai.chats()[0].body?.stream).toBe(false);
  });

  it("retries connection errors, then reports them", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const retries: string[] = [];
    const e = await failure(complete(req({ baseUrl: `http://127.0.0.1:${port}/v1`, retries: 1, onRetry: (r) => retries.push(r.reason) })));
    expect(e).toMatchObject({ code: "E_CHAT_CONNECT", exitCode: 69 });
    expect(e.message).toContain("ECONNREFUSED");
    expect(retries).toHaveLength(1);
  });
});
