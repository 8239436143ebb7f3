/**
 * `opsterm __complete servers [prefix]`: what the completion scripts ask the binary at TAB time —
 * the inventory's server ids and its @tags, one per line. Hidden; never prints an error (a broken
 * servers.yaml must not spill messages into the user's command line): it prints nothing then.
 */
import type { InventoryService } from "../../contracts/inventory.ts";
import { defineCommand } from "../../kernel/commands.ts";
import { writeCompletionCache } from "../complete-cache.ts";

export const COMPLETE_KINDS = ["servers"] as const;

export const completeCommand = defineCommand({
  name: "__complete",
  description: "Completion candidates for the shell scripts (server ids and @tags)",
  usage: "<kind> [prefix]",
  hidden: true,
  async action(args, ctx) {
    if (args.kind !== "servers") return 0;
    const prefix = String(args.prefix ?? "");
    let words: string[] = [];
    try {
      const inventory = ctx.tryUse("inventory") as InventoryService | undefined;
      const servers = (await inventory?.list()) ?? [];
      const tags = [...new Set(servers.flatMap((s) => s.tags))].sort().map((t) => `@${t}`);
      words = [...servers.map((s) => s.id), ...tags];
    } catch {
      return 0;
    }
    writeCompletionCache(ctx.paths, words);
    printCandidates(ctx.io.stdout, words, prefix, ctx.json);
    return 0;
  },
});

export function printCandidates(out: NodeJS.WritableStream, words: string[], prefix: string, json: boolean): void {
  const wanted = words.filter((w) => w.startsWith(prefix));
  if (json) out.write(wanted.map((w) => JSON.stringify({ value: w })).join("\n") + (wanted.length ? "\n" : ""));
  else if (wanted.length) out.write(wanted.join("\n") + "\n");
}
