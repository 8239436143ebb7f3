/**
 * Checks on the raw text before any parsing: type, length, invalid UTF-16/UTF-8 (lone
 * surrogates), control characters and invisible or non-ASCII space characters.
 */

export const MAX_LENGTH = 8192;

export interface ScreenHit {
  rule: string;
  reason: string;
  segment?: string;
}

// Zero-width, bidi controls, word joiners, BOM, soft hyphen, Hangul fillers, tag characters,
// variation selectors and every non-ASCII space.
const INVISIBLE = /[\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]|\udb40[\udc00-\udcff]|\udb40[\udd00-\uddef]/;

/** `U+00A0`: how a character is named in reasons. */
export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

export function screen(command: unknown): ScreenHit | undefined {
  if (typeof command !== "string") return { rule: "input.not-text", reason: "the command is not text" };
  if (command.length > MAX_LENGTH) return { rule: "input.too-long", reason: `the command is ${command.length} characters long (limit ${MAX_LENGTH})` };
  if (command.trim() === "") return { rule: "input.empty", reason: "there is no command" };
  for (let i = 0; i < command.length; i++) {
    const c = command.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = command.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { rule: "input.invalid-utf8", reason: `lone surrogate at offset ${i}: not valid UTF-8`, segment: command.slice(Math.max(0, i - 10), i) };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { rule: "input.invalid-utf8", reason: `lone surrogate at offset ${i}: not valid UTF-8`, segment: command.slice(Math.max(0, i - 10), i) };
    if (c === 0xfffd) return { rule: "input.invalid-utf8", reason: `replacement character at offset ${i}: the input was not valid UTF-8` };
    // Tab and newline are shell syntax; every other control character (CR, ESC, NUL, DEL, C1) is not.
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) {
      return { rule: "input.control-char", reason: `control character ${codePoint(command[i])} at offset ${i} (can hide text on a terminal)`, segment: command.slice(Math.max(0, i - 10), i + 10) };
    }
  }
  const m = INVISIBLE.exec(command);
  if (m) return { rule: "input.invisible-char", reason: `invisible character ${codePoint(m[0])} at offset ${m.index}`, segment: command.slice(Math.max(0, m.index - 10), m.index + 10) };
  return undefined;
}
