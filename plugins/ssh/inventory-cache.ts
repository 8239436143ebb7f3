/**
 * The inventory, read once and reused while its files are unchanged: a fan-out resolves each of
 * its 50 hosts through the gate, and a long-running MCP server must still see an edit.
 */
import { statSync } from "node:fs";
import type { ActionContext } from "../../src/kernel/index.ts";
import { inventoryPaths, type Inventory } from "./inventory.ts";
import { inventoryFor } from "./settings.ts";

export type InventoryLoader = (ctx: Pick<ActionContext, "env" | "paths">) => Promise<Inventory>;

export function createInventoryCache(): InventoryLoader {
  let cached: { key: string; inventory: Promise<Inventory> } | undefined;
  return (ctx) => {
    const key = fingerprint(ctx);
    if (cached?.key !== key) {
      const inventory = inventoryFor(ctx);
      cached = { key, inventory };
      // A file that failed to load is read again next time (it may be fixed by then).
      inventory.catch(() => {
        if (cached?.inventory === inventory) cached = undefined;
      });
    }
    return cached.inventory;
  };
}

function fingerprint(ctx: Pick<ActionContext, "env" | "paths">): string {
  const parts = inventoryPaths(ctx.paths).map(({ path }) => {
    const s = statSync(path, { throwIfNoEntry: false });
    return s ? `${path}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : `${path}:-`;
  });
  return [ctx.env.USER ?? "", ctx.env.LOGNAME ?? "", ...parts].join("|");
}
