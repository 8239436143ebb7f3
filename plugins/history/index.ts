/**
 * The history plugin: a searchable record of questions, answers and executions in history.db
 * (SQLite via sql.js). Events arrive through the `history` hook and the "history" service.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { historyCommands } from "./commands.ts";
import type { HistoryStore } from "./service.ts";
import type { HistoryService } from "./types.ts";

export default definePlugin({
  name: "history",
  apiVersion: 1,
  description: "Searchable history of questions, answers and executions",
  config: {
    history: {
      type: "object",
      description: "History store settings",
      properties: {
        // Global-only: a project folder must not delete your history.
        retentionDays: { type: "number", min: 1, integer: true, globalOnly: true, description: "Delete entries older than this many days when compacting (global config only)" },
      },
    },
  },
  commands: historyCommands,
  hooks: {
    history: (event, ctx) => ctx.use("history").record(event).then(() => undefined),
    // Every action that ran becomes one execution entry, built here from its typed result (refusals
    // are in the audit log; history holds what happened).
    afterAction: async (result, ctx) => {
      if (!result.attempted) return;
      const { executionEvent } = await import("./from-action.ts");
      await ctx.use("history").record(executionEvent(result));
    },
    doctor: (_, ctx) => [
      { kind: "file", path: `${ctx.paths.dataDir}/history.db`, description: "history (SQLite)" },
      { kind: "file", path: `${ctx.paths.dataDir}/history.journal`, description: "history events not yet compacted" },
    ],
  },
  setup(ctx) {
    // sql.js and the store load on first use: startup stays cheap.
    let store: Promise<HistoryStore> | undefined;
    let recorded = false;
    const lazy = () => (store ??= import("./service.ts").then((m) => m.createHistoryStore(m.pluginDeps(ctx))));
    const service: HistoryService = {
      record: async (e) => {
        recorded = true;
        return (await lazy()).record(e);
      },
      search: async (o) => (await lazy()).search(o),
      get: async (id) => (await lazy()).get(id),
      lastConversation: async () => (await lazy()).lastConversation(),
      importEvents: async (records) => (await lazy()).importEvents(records),
    };
    ctx.provide("history", service);
    return async () => {
      // Nobody may search for a long time (cron jobs only append): keep the journal bounded.
      if (!recorded || !store) return;
      const [{ journalBytes }, { JOURNAL_MAX_BYTES }] = await Promise.all([import("./journal.ts"), import("./service.ts")]);
      const s = await store;
      if (journalBytes(s.journalPath) <= JOURNAL_MAX_BYTES) return;
      await s.compact().catch((error: Error) => ctx.io.debug(`history: compaction at exit failed: ${error.message}`));
    };
  },
});
