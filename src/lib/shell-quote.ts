/**
 * POSIX shell quoting for one word: a bare word when it holds only characters no shell treats
 * specially, else single quotes (safe for any byte but NUL, which no argument can hold).
 *
 * @example shellQuote("/etc/app.conf") → /etc/app.conf;  shellQuote("it's") → 'it'\''s'
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
