/**
 * sql.js's WebAssembly as bytes, inlined by the bundler (esbuild loader ".wasm": "binary").
 * A static import of its own: a dynamic import of the `.wasm` file would make esbuild wrap the
 * bytes as a namespace object, copying 650k indexed properties (over a second at startup).
 * Under tsx and vitest this module fails to load, and sqlite.ts reads node_modules instead.
 */
// @ts-ignore: the "*.wasm" module type is declared by the build, not always present.
import wasmBinary from "sql.js/dist/sql-wasm.wasm";

export const bytes: unknown = wasmBinary;
