/**
 * Invisible characters (zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
 * controls, tag characters: Unicode's format category, plus a few invisible fillers) are dropped
 * before matching, so `ghp_abc\u200Bdef…` cannot split a token past the patterns. Matches are found
 * in the cleaned text and mapped back, so the placeholder covers the whole original token,
 * invisible characters included.
 */

const INVISIBLE = /[\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180D\u3164\uFE00-\uFE0F\uFFA0]/gu;

export interface Normalized {
  /** The text without invisible characters (the same string when it had none). */
  clean: string;
  /** Maps a span of `clean` to the span of the original text it came from. */
  toOriginal(start: number, end: number): [number, number];
}

const IDENTITY: Normalized["toOriginal"] = (start, end) => [start, end];

export function hasInvisible(text: string): boolean {
  INVISIBLE.lastIndex = 0;
  return INVISIBLE.test(text);
}

export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, "");
}

export function normalize(text: string): Normalized {
  if (!hasInvisible(text)) return { clean: text, toOriginal: IDENTITY };
  const keptAt: number[] = []; // clean index where each kept run starts
  const shift: number[] = []; // original index minus clean index for that run
  let clean = "";
  let last = 0;
  INVISIBLE.lastIndex = 0;
  for (const m of text.matchAll(INVISIBLE)) {
    if (m.index > last) {
      keptAt.push(clean.length);
      shift.push(last - clean.length);
      clean += text.slice(last, m.index);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) {
    keptAt.push(clean.length);
    shift.push(last - clean.length);
    clean += text.slice(last);
  }
  /** Original index of the kept character at clean index `k`. */
  const at = (k: number): number => {
    let lo = 0;
    let hi = keptAt.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (keptAt[mid] <= k) lo = mid;
      else hi = mid - 1;
    }
    return k + (shift[lo] ?? 0);
  };
  return {
    clean,
    // The end maps from the last character inside the span, so invisible characters between the
    // token's characters are inside the original span, and those after it are not.
    toOriginal: (start, end) => (end > start ? [at(start), at(end - 1) + 1] : [at(start), at(start)]),
  };
}
