/**
 * Streamed tool calls: `delta.tool_calls` fragments put back together into whole calls.
 *
 * The dialects differ. OpenAI sends `index`, `id` and the name in the first fragment of a call and
 * then only `index` with pieces of `arguments`; calls of one turn interleave by index. llama.cpp's
 * server does the same, sometimes repeating the id. Ollama sends each call whole in one fragment,
 * with `index` 0 for every call (or none) and its own id. So a fragment belongs to:
 * the call with its id; else the latest call with its index (when it names no new function);
 * else, with neither, the last call; and a fragment that names a function while the call it would
 * join already has one starts a new call.
 */
import type { ChatToolCall } from "../../src/kernel/index.ts";

interface Slot {
  index?: number;
  id?: string;
  name: string;
  args: string;
}

export interface ToolCallAccumulator {
  /** Feeds one chunk's `delta.tool_calls` (or a whole message's `tool_calls`). */
  push(fragments: unknown): void;
  /** The calls so far, in the order they started; ids made up (`call_<n>`) where the provider sent none. */
  calls(): ChatToolCall[];
}

export function createToolCallAccumulator(): ToolCallAccumulator {
  const slots: Slot[] = [];

  function slotFor(f: Record<string, unknown>, name: string | undefined): Slot {
    const id = typeof f.id === "string" && f.id ? f.id : undefined;
    const index = typeof f.index === "number" && Number.isInteger(f.index) ? f.index : undefined;
    if (id) {
      const byId = slots.find((s) => s.id === id);
      if (byId) return byId;
      // The id may come after the first fragment (rare): an id-less call at this index takes it.
      const waiting = index === undefined ? undefined : findLast(slots, (s) => s.index === index && s.id === undefined && (!name || !s.name));
      if (waiting) {
        waiting.id = id;
        return waiting;
      }
      return open({ index, id });
    }
    const candidate = index !== undefined ? findLast(slots, (s) => s.index === index) : slots.at(-1);
    // A fragment naming a function while its call already has one is the next call (Ollama).
    if (!candidate || (name && candidate.name)) return open({ index });
    return candidate;
  }

  function open(init: { index?: number; id?: string }): Slot {
    const slot: Slot = { ...init, name: "", args: "" };
    slots.push(slot);
    return slot;
  }

  return {
    push(fragments) {
      if (!Array.isArray(fragments)) return;
      for (const raw of fragments) {
        if (typeof raw !== "object" || raw === null) continue;
        const f = raw as Record<string, unknown>;
        const fn = (typeof f.function === "object" && f.function !== null ? f.function : {}) as Record<string, unknown>;
        const name = typeof fn.name === "string" && fn.name ? fn.name : undefined;
        const slot = slotFor(f, name);
        if (name && !slot.name) slot.name = name;
        // Ollama's native shape sends arguments as an object, not a JSON string.
        if (typeof fn.arguments === "string") slot.args += fn.arguments;
        else if (typeof fn.arguments === "object" && fn.arguments !== null) slot.args += JSON.stringify(fn.arguments);
      }
    },
    calls() {
      return slots.map((s, i) => ({ id: s.id ?? `call_${i}`, type: "function" as const, function: { name: s.name, arguments: s.args } }));
    },
  };
}

function findLast<T>(list: T[], test: (item: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i])) return list[i];
  return undefined;
}
