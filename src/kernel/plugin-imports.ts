/**
 * What a plugin module would load besides itself. The trust pin (plugins.json) covers exactly one
 * file, so `plugin add` refuses a module that imports anything but `node:` built-ins: static
 * imports and re-exports, dynamic `import()` (a specifier that is not a literal cannot be checked,
 * so it is refused too), `import.meta.resolve`, and `node:module` (its createRequire gives a
 * `require` that loads any file). Lexed with es-module-lexer (the pure-JS build), which skips
 * strings, comments, regular expressions and template literals as a parser would.
 * Loaded only by `plugin add`: nothing else pays for the lexer.
 */
import { parse } from "es-module-lexer/js";

/** Built-ins that load other files themselves. */
const LOADERS = new Set(["node:module"]);

export interface ForeignImport {
  /** What the module names (`./helper.js`), or the source text when it is not a literal. */
  specifier: string;
  /** 1-based line of the import. */
  line: number;
  why: string;
}

/** Every load the pin would not cover; empty when the module stands alone. Throws on unlexable source. */
export function foreignImports(source: string): ForeignImport[] {
  const [imports] = parse(source);
  const found: ForeignImport[] = [];
  const lineOf = (offset: number) => source.slice(0, offset).split("\n").length;
  for (const imp of imports) {
    const statement = source.slice(imp.ss, imp.se);
    if (imp.t === 3) {
      // import.meta: only `.resolve` (which locates other modules) matters.
      if (/^\s*(?:\?\.|\.)\s*resolve\b|^\s*\[\s*["'`]resolve/.test(source.slice(imp.se, imp.se + 40))) {
        found.push({ specifier: "import.meta.resolve", line: lineOf(imp.ss), why: "import.meta.resolve locates other modules" });
      }
      continue;
    }
    if (imp.n === undefined) {
      found.push({ specifier: statement, line: lineOf(imp.ss), why: "a dynamic import whose specifier is not a plain string cannot be checked" });
      continue;
    }
    if (!imp.n.startsWith("node:")) found.push({ specifier: imp.n, line: lineOf(imp.ss), why: "only node: built-ins are allowed" });
    else if (LOADERS.has(imp.n)) found.push({ specifier: imp.n, line: lineOf(imp.ss), why: "createRequire loads other files" });
  }
  return found;
}
