/** sql.js, loaded once per process (shared with other built-ins: src/lib/sqlite.ts). */
export { loadSqlJs } from "../../src/lib/sqlite.ts";
