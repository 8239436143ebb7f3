/**
 * The ssh plugin's contracts live in src/contracts/inventory.ts (other plugins use them too);
 * re-exported here for the plugin's own modules.
 */
export type * from "../../src/contracts/inventory.ts";
