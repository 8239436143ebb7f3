/**
 * The second, independent recognizer. It knows nothing of bash beyond the smallest safe subset:
 * words of a safe character set separated by blanks, with plain '…' and "…" quoting. Anything
 * else gives undefined. An auto-allow needs this argv to equal the parser's, so a parser bug
 * alone can never produce one.
 */

const BARE = /[A-Za-z0-9_./:=,@%+-]/;

/** argv of a line in the safe subset, or undefined when the line is outside it. */
export function strictArgv(line: string): string[] | undefined {
  const argv: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i];
    if (ch === " " || ch === "\t") {
      i++;
      continue;
    }
    let word = "";
    let quotedAny = false;
    let bareEquals = false;
    while (i < n && line[i] !== " " && line[i] !== "\t") {
      const c = line[i];
      if (c === "'") {
        const close = line.indexOf("'", i + 1);
        if (close < 0) return undefined;
        const body = line.slice(i + 1, close);
        if (!/^[\x20-\x26\x28-\x7e]*$/.test(body)) return undefined;
        word += body;
        quotedAny = true;
        i = close + 1;
      } else if (c === '"') {
        const close = line.indexOf('"', i + 1);
        if (close < 0) return undefined;
        const body = line.slice(i + 1, close);
        // No $ ` \ ! inside double quotes: those still expand there.
        if (!/^[\x20\x23\x25-\x5b\x5d-\x5f\x61-\x7e]*$/.test(body) || body.includes("!")) return undefined;
        word += body;
        quotedAny = true;
        i = close + 1;
      } else if (BARE.test(c)) {
        if (c === "=") bareEquals = true;
        word += c;
        i++;
      } else {
        return undefined;
      }
    }
    // An unquoted `=` in the first word is an assignment, not a program.
    if (argv.length === 0 && bareEquals) return undefined;
    if (word === "" && !quotedAny) return undefined;
    argv.push(word);
  }
  return argv.length > 0 ? argv : undefined;
}

export interface StrictStage {
  argv: string[];
  /** Indexes of words that are unquoted globs (`/var/log/*`): only `*` and `?`. */
  globs: Set<number>;
}

/**
 * A pipeline of words in the safe subset: stages separated by single unquoted `|` (not `||`,
 * not `|&`), each word as in strictArgv, plus unquoted `*` and `?` in a word (a glob, flagged).
 * Undefined when the line is outside that subset.
 */
export function strictPipeline(line: string): StrictStage[] | undefined {
  const stages: StrictStage[] = [];
  let stage: StrictStage = { argv: [], globs: new Set() };
  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i];
    if (ch === " " || ch === "\t") {
      i++;
      continue;
    }
    if (ch === "|") {
      if (line[i + 1] === "|" || line[i + 1] === "&" || stage.argv.length === 0) return undefined;
      stages.push(stage);
      stage = { argv: [], globs: new Set() };
      i++;
      continue;
    }
    let word = "";
    let quotedAny = false;
    let bareEquals = false;
    let glob = false;
    while (i < n && line[i] !== " " && line[i] !== "\t" && line[i] !== "|") {
      const c = line[i];
      if (c === "'") {
        const close = line.indexOf("'", i + 1);
        if (close < 0) return undefined;
        const body = line.slice(i + 1, close);
        if (!/^[\x20-\x26\x28-\x7e]*$/.test(body)) return undefined;
        word += body;
        quotedAny = true;
        i = close + 1;
      } else if (c === '"') {
        const close = line.indexOf('"', i + 1);
        if (close < 0) return undefined;
        const body = line.slice(i + 1, close);
        if (!/^[\x20\x23\x25-\x5b\x5d-\x5f\x61-\x7e]*$/.test(body) || body.includes("!")) return undefined;
        word += body;
        quotedAny = true;
        i = close + 1;
      } else if (BARE.test(c)) {
        if (c === "=") bareEquals = true;
        word += c;
        i++;
      } else if (c === "*" || c === "?") {
        glob = true;
        word += c;
        i++;
      } else {
        return undefined;
      }
    }
    if (stage.argv.length === 0 && (bareEquals || glob)) return undefined;
    // A glob must be wholly unquoted: a quoted part would make bash match it literally.
    if (glob && quotedAny) return undefined;
    if (word === "" && !quotedAny) return undefined;
    if (glob) stage.globs.add(stage.argv.length);
    stage.argv.push(word);
  }
  if (stage.argv.length === 0) return undefined;
  stages.push(stage);
  return stages;
}
