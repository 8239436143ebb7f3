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
    // esbuild inlines this as bytes (loader ".wasm": "binary"); plain Node refuses the extension.
    // @ts-ignore: the "*.wasm" module type is declared by the build, not always present.
    const mod = (await import("sql.js/dist/sql-wasm.wasm")) as { default: unknown };
    if (mod.default instanceof Uint8Array) return mod.default;
  } catch {
    // fall through to node_modules
  }
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve("sql.js/dist/sql-wasm.wasm"));
}
