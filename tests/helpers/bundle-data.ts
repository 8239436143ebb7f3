/**
 * What a test or benchmark bundle of opsterm needs to behave like the real build (build.ts): data
 * files (sql.js's WebAssembly) are read from next to the bundle, which finds itself through
 * import.meta.url. Spread `bundleDataOptions` into esbuild's options, then `copyBundleData(dir)`.
 */
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { SQL_WASM_ASSET } from "../../src/lib/sqlite.ts";

export const bundleDataOptions = {
  define: { __OPSTERM_BUNDLED__: "true", "import.meta.url": "__opstermImportMetaUrl" },
  banner: { js: `var __opstermImportMetaUrl=require("node:url").pathToFileURL(__filename).href;` },
};

export function copyBundleData(dir: string): void {
  copyFileSync(createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm"), join(dir, SQL_WASM_ASSET));
}
