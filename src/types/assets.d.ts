/**
 * Assets that build.ts inlines into the bundle. A `.wasm` import is its bytes (esbuild's
 * `binary` loader), e.g. `import wasm from "sql.js/dist/sql-wasm.wasm"` → `initSqlJs({ wasmBinary: wasm })`.
 * Import it lazily inside the command that needs it: decoding the bytes is startup work.
 */
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}
