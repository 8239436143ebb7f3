/**
 * Loads sql.js lazily (history.db, and the original OpsTerm's history.db for migrate). Its
 * WebAssembly is an asset of the build (src/lib/bundled-asset.ts); from source it is read from
 * node_modules.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";
import type { SqlJsStatic } from "sql.js";
import { bundledAsset } from "./bundled-asset.ts";

/** sql.js's WebAssembly: an asset of the binary, a file next to a plain dist/opsterm.cjs. */
export const SQL_WASM_ASSET = "sql-wasm.wasm";

let cached: Promise<SqlJsStatic> | undefined;

/**
 * The sql.js module, initialised once per process. `"query"`: the process is about to run a
 * short query (a `history` search) rather than compact or rewrite the database.
 */
export function loadSqlJs(purpose: "query" | "write" = "write"): Promise<SqlJsStatic> {
  cached ??= (async () => {
    const [{ default: initSqlJs }, wasmBinary] = await Promise.all([import("sql.js"), loadWasmBinary()]);
    // For a query, SQLite runs on V8's baseline WebAssembly code only (Liftoff, no tier-up to the
    // optimising compiler): a search is over long before optimised code would pay back its
    // compile time, which on a busy machine competes with the search itself (history search over
    // 100k rows with the standalone binary: ~150 → ~105 ms). Whole-database work (compaction,
    // prune, quick_check) is ~50% slower that way, so a process that loads sql.js to write keeps
    // the default. Both flags are needed: --no-wasm-dynamic-tiering alone makes V8 optimise
    // every function up front.
    // V8 reads them while the code runs, so they stay set for the rest of the process (a later
    // compaction in it is slower, not wrong); they concern WebAssembly only, and sql.js is
    // opsterm's only module.
    if (purpose === "query") setFlagsFromString("--no-wasm-tier-up --no-wasm-dynamic-tiering");
    // A copy with its own ArrayBuffer: emscripten wants exactly the module's bytes.
    return initSqlJs({ wasmBinary: wasmBinary.slice().buffer as ArrayBuffer });
  })();
  return cached;
}

async function loadWasmBinary(): Promise<Uint8Array> {
  const bundled = bundledAsset(SQL_WASM_ASSET);
  if (bundled) return bundled;
  if (!import.meta.url) throw new Error("sql.js WebAssembly is missing from this build");
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve("sql.js/dist/sql-wasm.wasm"));
}
