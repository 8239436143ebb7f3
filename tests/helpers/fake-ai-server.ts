/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol (JSON and SSE),
 * scripted per test. It records every request, so tests can assert what reached the "provider".
 *
 * @example
 * const ai = await startFakeAi();
 * ai.enqueue(ai.stream(["Hel", "lo"]));
 * // … run opsterm with OPSTERM_BASE_URL=ai.baseUrl …
 * expect(ai.requests[0].headers.authorization).toBe("Bearer sk-test");
 * await ai.close();
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { model?: string; messages?: { role: string; content: string }[]; stream?: boolean; [k: string]: unknown } | undefined;
}

/** One scripted answer. Bytes are written exactly as given, so tests control the chunking. */
export type Reply =
  | { kind: "json"; status?: number; headers?: Record<string, string>; body: unknown }
  | { kind: "text"; status: number; headers?: Record<string, string>; body: string }
  | {
      kind: "sse";
      /** Written one by one, each a separate socket write. */
      chunks: (string | Uint8Array)[];
      /** Pause between chunks. */
      delayMs?: number;
      /** After the chunks: keep the connection open and send nothing (mid-stream stall). */
      stall?: boolean;
    }
  | { kind: "destroy" }
  /** Accept the request and never send headers (the connect/response timeout). */
  | { kind: "hang" };

export interface FakeAi {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Chat-completions requests only (not GET /models). */
  chats(): RecordedRequest[];
  enqueue(...replies: Reply[]): void;
  /** Forgets recorded requests and unused replies (call in beforeEach). */
  reset(): void;
  /** The default when the queue is empty: a short streamed "ok". */
  fallback: Reply;
  /** SSE reply with one content delta per piece, then finish_reason and [DONE]. */
  stream(pieces: string[], options?: { finish?: string | null; done?: boolean }): Reply;
  /** Non-streaming JSON answer. */
  answer(content: string, finish?: string): Reply;
  /** A streamed turn that calls tools, as one of three servers sends it (see toolCallChunks). */
  toolCalls(calls: ScriptedCall[], options?: { dialect?: Dialect; content?: string }): Reply;
  close(): Promise<void>;
}

export type Dialect = "openai" | "ollama" | "llamacpp";

export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

let callSerial = 0;

/**
 * The SSE chunks of a tool-calling turn in a server's dialect:
 * - openai: `index`, `id` and the name in the first fragment of each call, the arguments in
 *   pieces carrying only `index`; finish_reason "tool_calls"; then a usage chunk with no choices.
 * - ollama: each call whole in one fragment, `index` 0 for every call; finish_reason
 *   "tool_calls" with no usage chunk.
 * - llamacpp: like openai but the arguments come a few characters at a time and the usage rides
 *   on the finish chunk.
 */
export function toolCallChunks(calls: ScriptedCall[], dialect: Dialect = "openai", content = ""): string[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => sseData({ id: "c1", object: "chat.completion.chunk", model: "fake", choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
  const ids = calls.map((c) => c.id ?? `call_${++callSerial}`);
  const out: string[] = [chunk({ role: "assistant", content: content || null })];
  const usage = { prompt_tokens: 100, completion_tokens: 10 * calls.length, total_tokens: 100 + 10 * calls.length };
  if (dialect === "ollama") {
    out.push(chunk({ role: "assistant", content: "", tool_calls: calls.map((c, i) => ({ id: ids[i], index: 0, type: "function", function: { name: c.name, arguments: JSON.stringify(c.args) } })) }));
    out.push(chunk({}, "tool_calls"));
  } else {
    const step = dialect === "llamacpp" ? 3 : 12;
    calls.forEach((c, i) => {
      out.push(chunk({ tool_calls: [{ index: i, id: ids[i], type: "function", function: { name: c.name, arguments: "" } }] }));
      const text = JSON.stringify(c.args);
      for (let k = 0; k < text.length; k += step) out.push(chunk({ tool_calls: [{ index: i, function: { arguments: text.slice(k, k + step) } }] }));
    });
    if (dialect === "llamacpp") out.push(chunk({}, "tool_calls", { usage }));
    else {
      out.push(chunk({}, "tool_calls"));
      out.push(sseData({ id: "c1", object: "chat.completion.chunk", model: "fake", choices: [], usage }));
    }
  }
  out.push(sseData("[DONE]"));
  return out;
}

export function sseData(value: unknown): string {
  return `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;
}

export function delta(content: string, finish: string | null = null): Record<string, unknown> {
  return { id: "c1", object: "chat.completion.chunk", model: "fake", choices: [{ index: 0, delta: { content }, finish_reason: finish }] };
}

/** Splits bytes every `size` bytes, cutting through UTF-8 sequences and `data:` lines. */
export function splitBytes(text: string, size: number): Uint8Array[] {
  const bytes = Buffer.from(text, "utf8");
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export async function startFakeAi(): Promise<FakeAi> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const open = new Set<ServerResponse>();

  const api: FakeAi = {
    baseUrl: "",
    requests,
    chats: () => requests.filter((r) => r.url.endsWith("/chat/completions")),
    enqueue: (...replies) => void queue.push(...replies),
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    fallback: { kind: "sse", chunks: [] },
    stream(pieces, options = {}) {
      const finish = options.finish === undefined ? "stop" : options.finish;
      const chunks = pieces.map((p) => sseData(delta(p)));
      if (finish !== null) chunks.push(sseData({ id: "c1", choices: [{ index: 0, delta: {}, finish_reason: finish }], usage: { prompt_tokens: 12, completion_tokens: pieces.length } }));
      if (options.done !== false) chunks.push(sseData("[DONE]"));
      return { kind: "sse", chunks };
    },
    toolCalls(calls, options = {}) {
      return { kind: "sse", chunks: toolCallChunks(calls, options.dialect, options.content), delayMs: 0 };
    },
    answer(content, finish = "stop") {
      return { kind: "json", body: { id: "c1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish }], usage: { prompt_tokens: 10, completion_tokens: 3 } } };
    },
    async close() {
      for (const res of open) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  api.fallback = api.stream(["ok"]);

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(parts).toString("utf8");
      let body: RecordedRequest["body"];
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, raw, body });
      if (req.method === "GET" && req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake-small" }, { id: "fake-large" }] }));
        return;
      }
      void reply(res, queue.shift() ?? api.fallback);
    });
  });

  async function reply(res: ServerResponse, r: Reply): Promise<void> {
    open.add(res);
    res.on("close", () => open.delete(res));
    if (r.kind === "destroy") return void res.socket?.destroy();
    if (r.kind === "hang") return;
    if (r.kind === "json") {
      res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
      return void res.end(JSON.stringify(r.body));
    }
    if (r.kind === "text") {
      res.writeHead(r.status, { "content-type": "text/html", ...r.headers });
      return void res.end(r.body);
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    for (const chunk of r.chunks) {
      if (res.destroyed) return;
      res.write(chunk);
      // A separate write per chunk only reaches the client separately if we yield in between.
      await new Promise((resolve) => setTimeout(resolve, r.delayMs ?? 2));
    }
    if (!r.stall) res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  api.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return api;
}
