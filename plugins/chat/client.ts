/**
 * One chat-completions call against an OpenAI-compatible API: streaming (SSE) or not, with
 * bounded retries for transient failures, connect and idle timeouts, and errors that never carry
 * the API key.
 */
import type { ChatMessage, ChatToolCall } from "../../src/kernel/index.ts";
import { ConfigError, InterruptedError, OpstermError, TemporaryError, UnavailableError, type ErrorCode } from "../../src/kernel/index.ts";
import { createSseParser } from "./sse.ts";
import { createToolCallAccumulator } from "./tool-calls.ts";

export interface CompletionRequest {
  baseUrl: string;
  model: string;
  apiKey?: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** Tool definitions (`{type: "function", function: {name, description, parameters}}`); the model may call them. */
  tools?: unknown[];
  stream: boolean;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  /** Longest retry-after we are willing to wait for; beyond it we give up at once. */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /** Each piece of answer text as it arrives. */
  onToken?: (text: string) => void;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** For tests: how long the base backoff step is (default 500 ms). */
  backoffMs?: number;
}

export interface CompletionResult {
  content: string;
  finishReason: string | null;
  /** finish_reason "length": the answer was cut off by maxTokens. */
  truncated: boolean;
  usage?: { promptTokens?: number; completionTokens?: number };
  /** The tools the model called, whole (streamed fragments put together), in call order. */
  toolCalls: ChatToolCall[];
  attempts: number;
}

/** A failure worth another attempt, with the error to throw if we give up. */
class Retryable extends Error {
  readonly final: OpstermError;
  readonly retryAfterMs?: number;
  constructor(final: OpstermError, retryAfterMs?: number) {
    super(final.message);
    this.final = final;
    this.retryAfterMs = retryAfterMs;
  }
}

interface AttemptState {
  started: boolean;
}

export async function complete(req: CompletionRequest): Promise<CompletionResult> {
  const scrub = scrubber(req.apiKey);
  const state: AttemptState = { started: false };
  const maxRetryAfter = req.maxRetryAfterMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await attemptOnce(req, state, scrub);
      return { ...result, attempts: attempt + 1 };
    } catch (error) {
      if (req.signal?.aborted) throw new InterruptedError();
      if (!(error instanceof Retryable)) throw scrubError(error, scrub);
      // Once answer text reached the user, a retry would print a second, different answer.
      if (state.started || attempt >= req.retries) throw scrubError(error.final, scrub);
      if (error.retryAfterMs !== undefined && error.retryAfterMs > maxRetryAfter) {
        const e = error.final;
        throw new OpstermError(e.code as ErrorCode, `${e.message} (the provider asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s)`, { hint: e.hint, exitCode: e.exitCode });
      }
      const backoff = (req.backoffMs ?? 500) * 2 ** attempt;
      const delayMs = Math.min(error.retryAfterMs ?? Math.min(backoff, 8000) + Math.floor(Math.random() * (backoff / 2)), maxRetryAfter);
      req.onRetry?.({ attempt: attempt + 1, delayMs, reason: scrub(error.final.message) });
      await sleep(delayMs, req.signal);
    }
  }
}

async function attemptOnce(req: CompletionRequest, state: AttemptState, scrub: (s: string) => string): Promise<Omit<CompletionResult, "attempts">> {
  const url = `${req.baseUrl}/chat/completions`;
  const controller = new AbortController();
  const onAbort = () => controller.abort("user");
  req.signal?.addEventListener("abort", onAbort, { once: true });
  let timer = setTimeout(() => controller.abort("connect-timeout"), req.connectTimeoutMs);
  const body: Record<string, unknown> = { model: req.model, messages: req.messages, stream: req.stream };
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.tools?.length) body.tools = req.tools;
  const headers: Record<string, string> = { "content-type": "application/json", accept: req.stream ? "text/event-stream" : "application/json" };
  if (req.apiKey) headers.authorization = `Bearer ${req.apiKey}`;
  try {
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: controller.signal });
    } catch (error) {
      throw transportError(controller.signal.reason, error, req, "connect");
    }
    clearTimeout(timer);
    // Reading the body is bounded by the idle timeout: a provider that stops sending is an error.
    const armIdle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort("idle-timeout"), req.idleTimeoutMs);
    };
    armIdle();
    if (!res.ok) {
      const text = await readCapped(res, 64 * 1024).catch((error) => {
        throw transportError(controller.signal.reason, error, req, "read");
      });
      throw httpError(res, scrub(text), req);
    }
    const type = res.headers.get("content-type") ?? "";
    if (!req.stream || !type.includes("event-stream")) {
      const text = await res.text().catch((error) => {
        throw transportError(controller.signal.reason, error, req, "read");
      });
      return parseJsonAnswer(text, req, scrub, state);
    }
    return await readStream(res, req, state, armIdle, controller, scrub);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onAbort);
  }
}

async function readStream(
  res: Response,
  req: CompletionRequest,
  state: AttemptState,
  armIdle: () => void,
  controller: AbortController,
  scrub: (s: string) => string,
): Promise<Omit<CompletionResult, "attempts">> {
  const parser = createSseParser();
  const reader = res.body!.getReader();
  let content = "";
  let finishReason: string | null = null;
  let usage: CompletionResult["usage"];
  let done = false;
  const calls = createToolCallAccumulator();
  const handle = (data: string) => {
    if (data.trim() === "[DONE]") {
      done = true;
      return;
    }
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return; // a garbage line from a proxy: not part of the answer
    }
    if (chunk.error) throw streamError(chunk.error, scrub, req);
    const choice = (chunk.choices as Record<string, unknown>[] | undefined)?.[0];
    const delta = choice?.delta as Record<string, unknown> | undefined;
    const text = typeof delta?.content === "string" ? delta.content : typeof (choice?.message as Record<string, unknown>)?.content === "string" ? String((choice!.message as Record<string, unknown>).content) : "";
    if (text) {
      state.started = true;
      content += text;
      req.onToken?.(text);
    }
    calls.push(delta?.tool_calls ?? (choice?.message as Record<string, unknown> | undefined)?.tool_calls);
    if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
    if (chunk.usage) usage = usageOf(chunk.usage);
  };
  try {
    while (!done) {
      const { value, done: eof } = await reader.read();
      if (eof) {
        for (const event of parser.end()) handle(event.data);
        break;
      }
      armIdle();
      for (const event of parser.push(value)) {
        handle(event.data);
        if (done) break;
      }
    }
  } catch (error) {
    if (error instanceof OpstermError || error instanceof Retryable) throw error;
    throw transportError(controller.signal.reason, error, req, "read");
  } finally {
    reader.cancel().catch(() => undefined);
  }
  if (finishReason === null) {
    throw new UnavailableError("E_CHAT_INCOMPLETE", `Incomplete answer from "${req.model}": the stream ended before the provider said it was finished`, {
      hint: "Nothing from it was run. Ask again; if it keeps happening, check the provider or a proxy in between",
    });
  }
  return { content, finishReason, truncated: finishReason === "length", usage, toolCalls: calls.calls() };
}

function parseJsonAnswer(text: string, req: CompletionRequest, scrub: (s: string) => string, state: AttemptState): Omit<CompletionResult, "attempts"> {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UnavailableError("E_CHAT_BAD_RESPONSE", `The provider at ${req.baseUrl} did not answer with JSON${looksLikeHtml(text) ? ` but with an HTML page${htmlTitle(text)}` : ""}`, {
      hint: "Check baseUrl: it must point at an OpenAI-compatible API (usually ending in /v1)",
    });
  }
  if (data.error) throw streamError(data.error, scrub, req);
  const choice = (data.choices as Record<string, unknown>[] | undefined)?.[0];
  const message = choice?.message as Record<string, unknown> | undefined;
  const calls = createToolCallAccumulator();
  calls.push(message?.tool_calls);
  const toolCalls = calls.calls();
  // A message that only calls tools may have null content.
  if (message && message.content == null && toolCalls.length) message.content = "";
  if (!choice || typeof message?.content !== "string") {
    throw new UnavailableError("E_CHAT_BAD_RESPONSE", `The provider at ${req.baseUrl} answered without a message`, { hint: "Check that it speaks the chat-completions protocol" });
  }
  const finishReason = typeof choice.finish_reason === "string" ? choice.finish_reason : null;
  if (finishReason === null) {
    throw new UnavailableError("E_CHAT_INCOMPLETE", `Incomplete answer from "${req.model}": no finish reason`, { hint: "Nothing from it was run. Ask again" });
  }
  state.started = true;
  if (message.content) req.onToken?.(message.content);
  return { content: message.content, finishReason, truncated: finishReason === "length", usage: data.usage ? usageOf(data.usage) : undefined, toolCalls };
}

function usageOf(u: unknown): CompletionResult["usage"] {
  const usage = u as Record<string, unknown>;
  return {
    promptTokens: typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : undefined,
    completionTokens: typeof usage.completion_tokens === "number" ? usage.completion_tokens : undefined,
  };
}

function streamError(raw: unknown, scrub: (s: string) => string, req: CompletionRequest): OpstermError {
  const e = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : { message: String(raw) };
  const message = scrub(typeof e.message === "string" ? e.message.slice(0, 500) : "unknown error");
  return new UnavailableError("E_CHAT_STREAM_ERROR", `The provider reported an error for "${req.model}": ${message}`, {
    hint: "Nothing from this answer was run. Ask again, or try another model with --model",
  });
}

interface ApiError {
  message?: string;
  type?: string;
  code?: string;
}

function httpError(res: Response, text: string, req: CompletionRequest): OpstermError | Retryable {
  const status = res.status;
  let api: ApiError = {};
  try {
    const parsed = JSON.parse(text) as { error?: ApiError | string; message?: string };
    api = typeof parsed.error === "string" ? { message: parsed.error } : (parsed.error ?? { message: parsed.message });
  } catch {
    // not JSON: an HTML error page from a proxy, or plain text
  }
  const detail = api.message ? `: ${String(api.message).slice(0, 300)}` : looksLikeHtml(text) ? ` (an HTML error page${htmlTitle(text)})` : text.trim() ? `: ${text.trim().slice(0, 200)}` : "";
  const where = `${req.baseUrl}`;
  if (api.code === "insufficient_quota" || api.type === "insufficient_quota") {
    return new UnavailableError("E_CHAT_QUOTA", `The provider at ${where} says the account is out of quota${detail}`, {
      hint: "Add credit or raise the limit with the provider, or use another provider with --provider",
    });
  }
  // Ollama: "… does not support tools"; llama.cpp without --jinja: "tools param requires --jinja flag".
  if (req.tools?.length && status >= 400 && /\btools?\b/i.test(api.message ?? text)) {
    return new UnavailableError("E_CHAT_NO_TOOLS", `The model "${req.model}" at ${where} cannot call tools${detail}`, {
      hint: "The agent needs a model with tool calling (e.g. llama3.1, qwen2.5 on ollama; llama-server --jinja; any current OpenAI model); nothing was run",
    });
  }
  if (status === 401 || status === 403) {
    return new ConfigError("E_CHAT_AUTH", `The provider at ${where} refused the API key (HTTP ${status})${detail}`, {
      hint: "Check the provider's apiKey / apiKeyEnv / apiKeyCmd in config.yaml, or OPSTERM_API_KEY",
    });
  }
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  if (retryable) {
    const final =
      status === 429
        ? new TemporaryError("E_CHAT_RATE_LIMIT", `The provider at ${where} is rate limiting (HTTP 429)${detail}`, { hint: "Wait a moment and ask again" })
        : new UnavailableError("E_CHAT_HTTP", `The provider at ${where} failed (HTTP ${status})${detail}`, { hint: "The provider has a problem; ask again later or use another provider with --provider" });
    return new Retryable(final, retryAfter(res.headers));
  }
  const hint = status === 404 ? `Check the model name ("${req.model}") and baseUrl; "opsterm provider models" lists the models` : "Check the provider settings in config.yaml";
  return new UnavailableError("E_CHAT_HTTP", `The provider at ${where} rejected the request (HTTP ${status})${detail}`, { hint });
}

/** retry-after-ms (OpenAI) wins over retry-after (seconds or an HTTP date). */
function retryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const after = headers.get("retry-after");
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function transportError(reason: unknown, error: unknown, req: CompletionRequest, phase: "connect" | "read"): Error {
  if (reason === "user") return new InterruptedError();
  if (reason === "connect-timeout") {
    return new Retryable(new TemporaryError("E_CHAT_TIMEOUT", `No answer from ${req.baseUrl} within ${Math.round(req.connectTimeoutMs / 1000)} s`, { hint: "Check the network, or raise chat.connectTimeoutMs" }));
  }
  if (reason === "idle-timeout") {
    return new Retryable(new TemporaryError("E_CHAT_IDLE", `The provider at ${req.baseUrl} stopped sending for ${Math.round(req.idleTimeoutMs / 100) / 10} s in the middle of the answer`, { hint: "Nothing from it was run. Ask again, or raise chat.idleTimeoutMs" }));
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  const message = phase === "connect" ? `Cannot reach the provider at ${req.baseUrl} (${why})` : `The connection to ${req.baseUrl} broke during the answer (${why})`;
  return new Retryable(new UnavailableError("E_CHAT_CONNECT", message, { hint: "Check baseUrl and that the server is running; nothing from a broken answer was run" }));
}

async function readCapped(res: Response, cap: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= cap) {
      reader.cancel().catch(() => undefined);
      break;
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, cap));
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(text);
}

function htmlTitle(text: string): string {
  const m = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(text);
  return m ? `: "${m[1].trim()}"` : "";
}

/** Replaces the API key (and its URL-encoded form) wherever it shows up. */
export function scrubber(key: string | undefined): (text: string) => string {
  if (!key || key.length < 4) return (t) => t;
  const forms = [...new Set([key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1)])];
  return (text) => forms.reduce((t, f) => t.split(f).join("[REDACTED:api-key]"), text);
}

function scrubError(error: unknown, scrub: (s: string) => string): unknown {
  if (error instanceof Error) {
    error.message = scrub(error.message);
    if (error instanceof OpstermError && error.hint) (error as { hint?: string }).hint = scrub(error.hint);
  }
  return error;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new InterruptedError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
