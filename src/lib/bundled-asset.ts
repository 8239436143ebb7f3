/**
 * Data the build keeps out of the main script (sql.js's WebAssembly, the guides): every byte of
 * that script is read and handled at each start, whatever the command, so what only some
 * commands use is an SEA asset of the binary, or a file next to a plain dist/opsterm.cjs.
 * From source (tsx, vitest) there is no such asset: undefined, and the caller reads its source.
 */
import { readFileSync } from "node:fs";

declare const __OPSTERM_BUNDLED__: boolean | undefined;

export function bundledAsset(name: string): Buffer | undefined {
  const sea = process.getBuiltinModule?.("node:sea") as { isSea?: () => boolean; getAsset?: (key: string) => ArrayBuffer } | undefined;
  if (sea?.isSea?.() && sea.getAsset) return Buffer.from(sea.getAsset(name));
  if (typeof __OPSTERM_BUNDLED__ === "boolean" && __OPSTERM_BUNDLED__) return readFileSync(new URL(name, import.meta.url));
  return undefined;
}
