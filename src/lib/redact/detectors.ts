/**
 * Detectors that a single regex cannot express linearly: AWS secret access keys standing alone
 * (detect-secrets' entropy approach), and the values of a Kubernetes Secret's `data:` /
 * `stringData:` (base64 or not, whatever their key is called; gitleaks' kubernetes-secret-yaml).
 */

export interface Found {
  start: number;
  end: number;
}

export interface Detector {
  kind: string;
  /** Lowercase literals, one of which must occur in the text; empty = always runs. */
  keywords: readonly string[];
  find(text: string): Found[];
  upstream: readonly string[];
}

// ---- AWS secret access keys without their key name ------------------------------------------

const AWS_SECRET_LENGTH = 40;
/**
 * Shannon entropy (bits per character) a 40-character token must reach. Random base64 of that
 * length has a median of 4.78 and falls below 4.3 about once in a thousand; words, paths and
 * repeated patterns stay well under it. (detect-secrets uses 4.5 on quoted strings of any length.)
 */
export const ENTROPY_THRESHOLD = 4.3;

const B64_TABLE = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") B64_TABLE[ch.charCodeAt(0)] = 1;

function isB64(code: number): boolean {
  return code < 128 && B64_TABLE[code] === 1;
}

/** `_` `-` `=` also glue a token into a longer word (identifiers, padding). */
function isGlue(code: number): boolean {
  return code === 95 || code === 45 || code === 61;
}

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Base64 of ordinary text decodes to printable characters; a random key does not. */
function decodesToText(token: string): boolean {
  const bytes = atob(token); // 40 base64 characters: always valid, 30 bytes
  let printable = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    if ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13) printable++;
  }
  return printable >= bytes.length * 0.9;
}

export function looksLikeAwsSecret(token: string): boolean {
  if (!/[A-Z]/.test(token) || !/[a-z]/.test(token) || !/[0-9]/.test(token)) return false;
  if (/^[0-9a-fA-F]+$/.test(token)) return false;
  if (shannonEntropy(token) < ENTROPY_THRESHOLD) return false;
  return !decodesToText(token);
}

/** True when the line before `lineStart` is a long run of base64: the token is a wrapped blob's last line. */
function afterBlobLine(text: string, lineStart: number): boolean {
  let i = lineStart - 1; // the newline
  if (i > 0 && text.charCodeAt(i - 1) === 13) i--;
  let run = 0;
  while (i > 0 && (isB64(text.charCodeAt(i - 1)) || text.charCodeAt(i - 1) === 61)) {
    i--;
    run++;
  }
  return run >= 60;
}

function isCandidate(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text.charCodeAt(start - 1) : 32;
  const after = end < text.length ? text.charCodeAt(end) : 32;
  // `KEY=<token>` is fine; `name_<token>`, `<token>==` and `x-<token>` are parts of something longer.
  if (isGlue(after) || (isGlue(before) && before !== 61)) return false;
  if (before === 10 && afterBlobLine(text, start)) return false;
  return looksLikeAwsSecret(text.slice(start, end));
}

const awsSecret: Detector = {
  kind: "aws-secret",
  keywords: [],
  find(text) {
    const found: Found[] = [];
    const n = AWS_SECRET_LENGTH;
    // Runs of base64 characters exactly 40 long. Look at the 40th character from a run boundary
    // first: when it is not base64, no such run starts before it, and the scan skips 40 at once.
    let i = 0;
    while (i + n <= text.length) {
      const probe = i + n - 1;
      if (!isB64(text.charCodeAt(probe))) {
        i = probe + 1;
        continue;
      }
      let start = probe;
      while (start > i && isB64(text.charCodeAt(start - 1))) start--;
      let end = probe + 1;
      while (end < text.length && isB64(text.charCodeAt(end))) end++;
      if (end - start === n && isCandidate(text, start, end)) found.push({ start, end });
      i = end + 1;
    }
    return found;
  },
  upstream: ["detect-secrets:Base64HighEntropyString"],
};

// ---- Kubernetes Secret data ------------------------------------------------------------------

const YAML_SECRET_KIND = /^[ \t-]*["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?[ \t]*$/m;
const YAML_DATA = /^([ \t-]*)(?:data|stringData)[ \t]*:[ \t]*$/gm;
const JSON_SECRET_KIND = /"kind"\s{0,5}:\s{0,5}"Secret"/;
const JSON_DATA = /"(?:data|stringData)"\s{0,5}:\s{0,5}\{([^{}]{0,1048576})\}/dg;
const JSON_VALUE = /"[^"\\\n]{1,256}"\s{0,5}:\s{0,5}"((?:[^"\\\n]|\\.){1,65536})"/dg;
const DOC_SEPARATOR = /^---/gm;

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13;
}

/** Leading spaces, tabs and list dashes of the line text[from, to). */
function indentOf(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && (isBlank(text.charCodeAt(i)) || text.charCodeAt(i) === 45)) i++;
  return i - from;
}

/** Values of the `data:` blocks of one YAML document, by indentation (a loop per line, no regex: Secrets can be long). */
function yamlDataValues(text: string, from: number, to: number, found: Found[]): void {
  YAML_DATA.lastIndex = from;
  for (let m = YAML_DATA.exec(text); m && m.index < to; m = YAML_DATA.exec(text)) {
    const base = m[1].length;
    let pos = m.index + m[0].length + 1;
    let blockIndent = -1; // inside a `key: |` block scalar: its key's indentation
    while (pos < to) {
      let eol = text.indexOf("\n", pos);
      if (eol === -1 || eol > to) eol = to;
      let end = eol;
      while (end > pos && isBlank(text.charCodeAt(end - 1))) end--;
      const indent = indentOf(text, pos, end);
      if (pos + indent < end) {
        if (indent <= base) break;
        if (blockIndent >= 0 && indent > blockIndent) found.push({ start: pos + indent, end });
        else {
          blockIndent = -1;
          const colon = text.indexOf(":", pos + indent);
          if (colon !== -1 && colon < end) {
            let start = colon + 1;
            while (start < end && isBlank(text.charCodeAt(start))) start++;
            const first = text[start];
            if ((first === "|" || first === ">") && /^[|>][-+0-9]*$/.test(text.slice(start, end))) blockIndent = indent;
            else if (start < end) {
              const quoted = end - start >= 2 && (first === '"' || first === "'") && text[end - 1] === first ? 1 : 0;
              found.push({ start: start + quoted, end: end - quoted });
            }
          }
        }
      }
      pos = eol + 1;
    }
    YAML_DATA.lastIndex = Math.max(pos, m.index + m[0].length);
  }
}

const k8sSecret: Detector = {
  kind: "k8s-secret",
  keywords: ["secret"],
  find(text) {
    const found: Found[] = [];
    if (YAML_SECRET_KIND.test(text)) {
      const bounds = [0, ...[...text.matchAll(DOC_SEPARATOR)].map((m) => m.index), text.length];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const doc = text.slice(bounds[i], bounds[i + 1]);
        if (YAML_SECRET_KIND.test(doc)) yamlDataValues(text, bounds[i], bounds[i + 1], found);
      }
    }
    if (JSON_SECRET_KIND.test(text)) {
      JSON_DATA.lastIndex = 0;
      for (const block of text.matchAll(JSON_DATA)) {
        const [from, to] = block.indices![1];
        JSON_VALUE.lastIndex = 0;
        for (const v of text.slice(from, to).matchAll(JSON_VALUE)) {
          const [s, e] = v.indices![1];
          found.push({ start: from + s, end: from + e });
        }
      }
    }
    return found.filter((f) => f.end > f.start);
  },
  upstream: ["gitleaks:kubernetes-secret-yaml"],
};

/** In priority order: the Kubernetes detector runs before the key/value rules, the entropy one after. */
export const K8S_SECRET = k8sSecret;
export const AWS_SECRET_ENTROPY = awsSecret;
