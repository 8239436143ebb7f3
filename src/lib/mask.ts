/**
 * Masks known secret values (vault values resolved for one command) in text and in streams,
 * and nothing else: unlike the redactor's patterns, it leaves every other byte alone, so it can
 * sit on a command's output without corrupting data that merely looks like a token.
 */
const PLACEHOLDER = "[REDACTED:vault]";

export interface Masker {
  mask(text: string): string;
  /** A stream whose chunks may split a value: holds back just enough to catch it. */
  stream(): { push(chunk: string): string; end(): string };
}

export function createMasker(values: readonly string[]): Masker {
  // Longest first, so a value that contains another is masked whole.
  const list = [...new Set(values.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  const longest = list[0]?.length ?? 0;
  const mask = (text: string): string => {
    let out = text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join(PLACEHOLDER);
    return out;
  };
  return {
    mask,
    stream() {
      let held = "";
      return {
        push(chunk) {
          const text = mask(held + chunk);
          // A value may start in the last longest-1 characters: keep them for the next chunk.
          const keep = Math.min(text.length, Math.max(0, longest - 1));
          const cut = text.length - keep;
          held = text.slice(cut);
          return text.slice(0, cut);
        },
        end() {
          const rest = mask(held);
          held = "";
          return rest;
        },
      };
    },
  };
}
