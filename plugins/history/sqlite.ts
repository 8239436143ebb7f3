/**
 * Loads sql.js lazily, with its WebAssembly inlined by the bundler. Under tsx and vitest the
 * `.wasm` import is not available, so the bytes are read from node_modules instead.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { SqlJsStatic } from "sql.js";

let cached: Promise<SqlJsStatic> | undefined;

/** The sql.js module, initialised once per process. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  cached ??= (async () => {
    const [{ default: initSqlJs }, wasmBinary] = await Promise.all([import("sql.js"), loadWasmBinary()]);
    // A copy with its own ArrayBuffer: emscripten wants exactly the module's bytes.
    return initSqlJs({ wasmBinary: wasmBinary.slice().buffer as ArrayBuffer });
  })();
  return cached;
}

async function loadWasmBinary(): Promise<Uint8Array> {
  try {
    const { bytes } = await import("./wasm-binary.ts");
    if (bytes instanceof Uint8Array) return bytes;
  } catch {
    // Not bundled: plain Node refuses the extension. Read it from node_modules.
  }
  if (!import.meta.url) throw new Error("sql.js WebAssembly is missing from this build (bundle it with the .wasm binary loader)");
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve("sql.js/dist/sql-wasm.wasm"));
}
