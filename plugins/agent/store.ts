/**
 * Agent conversations in the data dir (`agent/conversations/<id>.json`, 0600), and which one was
 * last (`agent/last.json`) for `opsterm chat --continue`. Redacted as they are saved: tool output
 * and the model's arguments may hold secrets the redactor knows.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { ChatMessage } from "../../src/kernel/index.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";

export interface StoredConversation {
  id: string;
  /** `agent`, `chat` or `connect`. */
  mode: string;
  provider: string;
  model: string;
  /** The one server of a `connect` session. */
  server?: string;
  createdAt: string;
  updatedAt: string;
  usage: { promptTokens: number; completionTokens: number };
  /** Everything but the system prompt: user, assistant (with tool calls) and tool turns. */
  messages: ChatMessage[];
}

const ID = /^[0-9a-f-]{36}$/;

export const newConversationId = (): string => randomUUID();

export function conversationPath(dataDir: string, id: string): string {
  return join(dataDir, "agent", "conversations", `${id}.json`);
}

export async function saveConversation(dataDir: string, conversation: StoredConversation, knownSecrets: readonly string[]): Promise<string> {
  const { createRedactor } = await import("../../src/lib/redact.ts");
  const messages = createRedactor({ knownSecrets }).redactDeep(conversation.messages);
  const path = conversationPath(dataDir, conversation.id);
  await atomicWrite(path, JSON.stringify({ ...conversation, messages }) + "\n");
  await atomicWrite(join(dataDir, "agent", "last.json"), JSON.stringify({ id: conversation.id }) + "\n");
  return path;
}

export function loadLastConversation(dataDir: string): StoredConversation | undefined {
  try {
    const last = JSON.parse(readBoundedText(join(dataDir, "agent", "last.json"), { maxBytes: 4096 }) ?? "null") as { id?: string } | null;
    if (!last?.id || !ID.test(last.id)) return undefined;
    const data = JSON.parse(readBoundedText(conversationPath(dataDir, last.id), { maxBytes: READ_LIMITS.journal }) ?? "null") as StoredConversation | null;
    if (!data || !Array.isArray(data.messages)) return undefined;
    return data;
  } catch {
    return undefined;
  }
}
