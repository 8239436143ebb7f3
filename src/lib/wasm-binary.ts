/**
 * sql.js's WebAssembly in a build: an SEA asset of the binary (dist/sql-wasm.wasm next to a
 * plain bundle). Undefined from source, where sqlite.ts reads it from node_modules.
 */
import { bundledAsset } from "./bundled-asset.ts";

export const SQL_WASM_ASSET = "sql-wasm.wasm";

export function bundledWasm(): Uint8Array | undefined {
  return bundledAsset(SQL_WASM_ASSET);
}
