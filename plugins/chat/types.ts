/**
 * The chat plugin's service contract lives in src/contracts/chat.ts (other plugins use it too);
 * re-exported here for the plugin's own modules.
 */
export type * from "../../src/contracts/chat.ts";
