/**
 * The last conversation, kept in the data dir for `ask --continue` (0600). It is redacted as it is
 * saved: what was sent with --allow-secrets is not, and the model's answer never was.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { ChatMessage } from "../../src/kernel/index.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { estimateTokens } from "./pipe-input.ts";

export interface Conversation {
  id: string;
  provider: string;
  model: string;
  updatedAt: string;
  /** User and assistant turns (no system prompt). */
  messages: ChatMessage[];
}

function conversationFile(dataDir: string): string {
  return join(dataDir, "chat", "last-conversation.json");
}

export async function loadConversation(dataDir: string): Promise<Conversation | undefined> {
  try {
    const data = JSON.parse(readBoundedText(conversationFile(dataDir), { maxBytes: READ_LIMITS.json }) ?? "null") as Conversation;
    if (!data || !Array.isArray(data.messages)) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

export async function saveConversation(dataDir: string, conversation: Conversation, knownSecrets: readonly string[] = []): Promise<void> {
  const { createRedactor } = await import("../../src/lib/redact.ts");
  const messages = createRedactor({ knownSecrets }).redactDeep(conversation.messages);
  await atomicWrite(conversationFile(dataDir), JSON.stringify({ ...conversation, messages }, null, 1) + "\n");
}

export function newConversationId(): string {
  return randomUUID();
}

/** Drops the oldest turns until the rest fits `maxTokens` (estimated). */
export function fitTurns(messages: ChatMessage[], maxTokens: number): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const cost = estimateTokens(messages[i].content) + 4;
    if (used + cost > maxTokens) break;
    kept.unshift(messages[i]);
    used += cost;
  }
  // A conversation must not start with an assistant turn.
  while (kept.length && kept[0].role !== "user") kept.shift();
  return kept;
}
