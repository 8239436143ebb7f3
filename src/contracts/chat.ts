/**
 * The service the chat plugin provides as "chat": one call that sends messages to the configured
 * provider (redacted, through the chatRequest/chatResponse hooks) and streams the answer.
 */
import type { ChatMessage, ChatToolCall } from "../kernel/index.ts";

export interface ChatAskOptions {
  /** Provider name (config `providers.<name>`, `ai`, or a preset); default per config/env. */
  provider?: string;
  model?: string;
  /** Stream tokens (default true). */
  stream?: boolean;
  /** Called with each piece of answer text as it arrives (after the answer started). */
  onToken?: (text: string) => void;
  /** Send secrets as they are (`--allow-secrets`). Default false: everything is redacted. */
  allowSecrets?: boolean;
  /** Don't print the "N values redacted" / retry notes on stderr. */
  quiet?: boolean;
  signal?: AbortSignal;
  /** Tools the model may call (chat-completions `tools`); a model that cannot gets E_CHAT_NO_TOOLS. */
  tools?: ChatToolSpec[];
}

/** One tool offered to the model. */
export interface ChatToolSpec {
  type: "function";
  function: { name: string; description: string; parameters: unknown };
}

export interface ChatAnswer {
  content: string;
  finishReason: string | null;
  /** The answer hit maxTokens (finish_reason "length"): never run anything from it. */
  truncated: boolean;
  provider: string;
  model: string;
  durationMs: number;
  usage?: { promptTokens?: number; completionTokens?: number };
  /** Values the redactor replaced in the request. */
  redactions: number;
  /** The messages exactly as they were sent (redacted, after chatRequest hooks). */
  sent: ChatMessage[];
  /** Tools the model called in this answer (empty or absent when it only answered in text). */
  toolCalls?: ChatToolCall[];
}

export interface ResolvedProviderInfo {
  name: string;
  baseUrl: string;
  model: string;
  contextWindow: number;
  maxTokens?: number;
  temperature?: number;
  supportsTools: boolean;
  /** "none" | "apiKey (config)" | "env OPENAI_API_KEY" | "command pass" — never the key. */
  keySource: string;
  origin: string;
}

export interface ChatService {
  /** Sends `messages`, streams the answer through `onToken`, resolves with the whole answer. */
  ask(messages: ChatMessage[], options?: ChatAskOptions): Promise<ChatAnswer>;
  /** Which provider a call with these options would use (throws ConfigError 78 if none). */
  provider(options?: Pick<ChatAskOptions, "provider" | "model">): Promise<ResolvedProviderInfo>;
}

declare module "../kernel/context.ts" {
  interface OpstermServices {
    chat: ChatService;
  }
}
