declare const __OPSTERM_VERSION__: string | undefined;

/** Set by build.ts from package.json; "dev" when running from source. */
export const VERSION: string = typeof __OPSTERM_VERSION__ === "string" ? __OPSTERM_VERSION__ : "0.0.0-dev";
