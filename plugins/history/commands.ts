/**
 * `opsterm history [query]`, `history show|rm|prune|compact`.
 */
import { DataError, UsageError, defineCommand, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { parseAge } from "./duration.ts";
import { parseLimit } from "../../src/lib/args.ts";
import { formatEntry, formatList } from "./format.ts";
import type { HistoryStore } from "./service.ts";

async function storeFor(ctx: CommandContext): Promise<HistoryStore> {
  const { createHistoryStore, pluginDeps } = await import("./service.ts");
  return createHistoryStore(pluginDeps(ctx));
}

function parseId(value: unknown, command: string): number | string {
  const text = String(value ?? "").trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (/^[A-Za-z0-9_-]{16}$/.test(text)) return text;
  throw new UsageError(`"${text}" is not a history id`, { code: "E_HISTORY_ID", hint: `Give the number shown by "opsterm history", e.g. "opsterm ${command} 42"` });
}

function notFound(id: number | string): DataError {
  return new DataError("E_HISTORY_NOT_FOUND", `No history entry ${id}`, { hint: 'List entries with "opsterm history"; prune or rm may have removed it' });
}

const search = defineCommand({
  name: "history search",
  groupDescription: "Search and manage past questions, answers and executions (opsterm history [query] searches)",
  description: "Search questions, answers and executions (also: opsterm history [query])",
  usage: "[...query]",
  groupDefault: true,
  options: [
    { flags: "-n, --limit <n>", description: "Show at most n entries", default: 20 },
    { flags: "--mode <mode>", description: "Only this kind of entry", choices: ["ask", "pipe", "explain", "agent", "chat", "connect", "exec", "write", "read", "transfer", "session", "workflow"] },
    { flags: "--server <server>", description: "Only entries for this server" },
  ],
  examples: ["opsterm history", "opsterm history nginx reload", "opsterm history --mode exec --server web-1 --limit 50", "opsterm history 'restart*' --json"],
  async action(args, ctx) {
    const limit = parseLimit(args.limit);
    const query = ((args.query as string[] | undefined) ?? []).join(" ").trim();
    const store = await storeFor(ctx);
    const entries = await store.search({
      query: query || undefined,
      limit,
      mode: args.mode === undefined ? undefined : String(args.mode),
      server: args.server === undefined ? undefined : String(args.server),
    });
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ query: query || null, entries }));
      return;
    }
    if (entries.length === 0) {
      ctx.io.err(query ? `No history matches "${query}".` : "No history yet.");
      return;
    }
    // Newest last, next to the prompt.
    for (const line of formatList([...entries].reverse(), ctx.io.style)) ctx.io.out(line);
  },
});

/** `opsterm search QUERY`: the original OpsTerm's word for it. */
const searchTop: CommandSpec = {
  ...search,
  name: "search",
  groupDescription: undefined,
  groupDefault: undefined,
  description: "Search history (the same as opsterm history search)",
  examples: ["opsterm search nginx", "opsterm search 'restart*' --mode exec"],
};

const show = defineCommand({
  name: "history show",
  description: "Show one history entry in full",
  usage: "<id>",
  examples: ["opsterm history show 42", "opsterm history show 42 --json"],
  async action(args, ctx) {
    const id = parseId(args.id, "history show");
    const entry = await (await storeFor(ctx)).get(id);
    if (!entry) throw notFound(id);
    if (ctx.json) ctx.io.out(JSON.stringify(entry));
    else for (const line of formatEntry(entry, ctx.io.style)) ctx.io.out(line);
  },
});

const rm = defineCommand({
  name: "history rm",
  description: "Delete one history entry",
  usage: "<id>",
  examples: ["opsterm history rm 42"],
  async action(args, ctx) {
    const id = parseId(args.id, "history rm");
    const removed = await (await storeFor(ctx)).remove(id);
    if (!removed) throw notFound(id);
    if (ctx.json) ctx.io.out(JSON.stringify({ removed: id }));
    else ctx.io.out(`removed history entry ${id}`);
  },
});

const prune = defineCommand({
  name: "history prune",
  description: "Delete entries older than an age (default: history.retentionDays from config)",
  options: [{ flags: "--older-than <age>", description: "Age such as 90d, 12h, 2w" }],
  examples: ["opsterm history prune --older-than 90d", "opsterm config set history.retentionDays 180"],
  async action(args, ctx) {
    let ageMs: number;
    if (args.olderThan !== undefined) ageMs = parseAge(String(args.olderThan));
    else {
      const days = (await ctx.config()).get("history.retentionDays");
      if (typeof days !== "number") {
        throw new UsageError("history prune needs --older-than, or history.retentionDays in config", { code: "E_USAGE", hint: "e.g. opsterm history prune --older-than 90d" });
      }
      ageMs = days * 86_400_000;
    }
    const cutoff = Date.now() - ageMs;
    const removed = await (await storeFor(ctx)).prune(cutoff);
    if (ctx.json) ctx.io.out(JSON.stringify({ removed, before: new Date(cutoff).toISOString() }));
    else ctx.io.out(`removed ${removed} history ${removed === 1 ? "entry" : "entries"} older than ${new Date(cutoff).toISOString()}`);
  },
});

const compact = defineCommand({
  name: "history compact",
  description: "Fold the journal of recent events into history.db now",
  examples: ["opsterm history compact"],
  async action(_args, ctx) {
    const result = await (await storeFor(ctx)).compact();
    if (ctx.json) ctx.io.out(JSON.stringify(result));
    else ctx.io.out(`compacted ${result.added} new ${result.added === 1 ? "entry" : "entries"}; ${result.total} in history.db`);
  },
});

export const historyCommands: CommandSpec[] = [search, searchTop, show, rm, prune, compact];
