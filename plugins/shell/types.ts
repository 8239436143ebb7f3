/**
 * The shell plugin's service contract lives in src/contracts/shell.ts (other plugins use it too);
 * re-exported here for the plugin's own modules.
 */
export type * from "../../src/contracts/shell.ts";
