/**
 * Secrets recognised by where they stand rather than by their shape: credentials on command
 * lines, values of secret-named keys (env, INI, YAML, JSON, headers, connection strings), URL
 * passwords, and private-key bodies without their PEM header. Follows gitleaks' generic-api-key,
 * curl-auth-* and private-key rules and detect-secrets' KeywordDetector, BasicAuthDetector,
 * AzureStorageKeyDetector and PrivateKeyDetector.
 */
import { shannonEntropy } from "./detectors.ts";
import type { Candidate, PatternRule } from "./rules.ts";

/** `a=b`, `a: b`: values that name a secret instead of holding one. */
const REFERENCE = /^(?:\$|%|<|\{\{|#\{|!vault\b|\[REDACTED:)|^(?:null|none|nil|true|false|undefined|required|optional|string|yes|no|on|off|\*+|x{3,}|\.{2,}|-+|…)$/i;

export function isReference(value: string): boolean {
  return value.length === 0 || REFERENCE.test(value);
}

/** Keys whose value is any string (a password can be a word). */
const PASSWORD_KEYS = "pass(?:word|wd|phrase)|sshpass|pwd|contrase(?:ñ|n)a";
/** Keys whose value is a secret when it looks like one (a token, not a word). */
const TOKEN_KEYS =
  "secret|token|credentials?|api[_-]?key|apikey|(?:access|account|private|secret|auth|client|service|master|signing|encryption|subscription|shared[_-]?access|db|database|storage)[_-]?key|pass|auth|sas[_-]?token|key";
const IS_PASSWORD_KEY = new RegExp(`^(?:${PASSWORD_KEYS})$`, "i");

/**
 * The key must END with the keyword (DB_PASSWORD, clientSecret, X-API-Key, AccountKey), so
 * PASSWORD_FILE, secretName, token_url and max_tokens are not secrets.
 */
const KEY_VALUE = new RegExp(
  `(${PASSWORD_KEYS}|${TOKEN_KEYS})[0-9]{0,2}(["'\`]?)[ \\t]{0,5}(=>|:=|\\?=|=|:)[ \\t]{0,5}` +
    `(?:"((?:[^"\\\\\\n]|\\\\.){1,1024})"|'([^'\\n]{1,1024})'|([^\\s"'\`$<>(){}\\[\\],=*#%;&|][^\\n"'\`;&|,}\\]]{0,1023}))`,
  "dgi",
);

/** Where the key name that ends at `end` starts (letters, digits, `_ . -`). */
function keyStart(text: string, end: number): number {
  let i = end;
  while (i > 0 && i > end - 64 && /[A-Za-z0-9_.-]/.test(text[i - 1])) i--;
  return i;
}

/** The keyword must begin the key or a word inside it: `dbPassword`, `DB_PASS`, `PGPASSWORD`; not `bypass`, `oauth`, `OLDPWD`. */
function keywordBoundary(text: string, at: number, keyword: string): boolean {
  const before = text[at - 1] ?? "";
  // A bare PWD is the working directory; MYSQL_PWD and dbPwd are passwords.
  if (!/[A-Za-z]/.test(before)) return keyword.toLowerCase() !== "pwd" || /[_.-]/.test(before);
  if (/[a-z0-9]/.test(before) && /[A-Z]/.test(keyword[0])) return true;
  // Glued to other letters: only the longer keywords (PGPASSWORD, mysecret, GHTOKEN).
  return keyword.length >= 5;
}

/** A bare value of a token-ish key after `:` or a spaced `=` must look like a credential, not a word ("token: expired"). */
function looksLikeCredential(value: string): boolean {
  if (value.length < 8) return false;
  return (/[0-9]/.test(value) && /[A-Za-z]/.test(value)) || /[^A-Za-z0-9 _.\-[\]<>|?]/.test(value);
}

/**
 * Any other `*_KEY` / `*.key` / `fooKey` (ADAFRUIT_IO_KEY, cloudflare.key): gitleaks' provider
 * rules are mostly such assignments. A sort key or a key file path is not a secret, so the value
 * must look random: long, letters and digits, entropy as gitleaks' generic-api-key asks.
 */
function looksLikeRandomKey(value: string): boolean {
  return value.length >= 16 && /[0-9]/.test(value) && /[A-Za-z]/.test(value) && !/^[~./]|:\/\//.test(value) && shannonEntropy(value) >= 3.5;
}

function keyValueKind(c: Candidate): string {
  const m = c.match;
  if (m[2]) return "json-secret";
  if (m[3] !== ":") return "env-secret";
  const key = c.text.slice(keyStart(c.text, m.index), m.index + m[1].length);
  return /^x-|-/i.test(key) ? "header-secret" : "yaml-secret";
}

const keyValue: PatternRule = {
  kind: keyValueKind,
  keywords: ["pass", "pwd", "secret", "token", "credential", "key", "auth", "contrase"],
  re: KEY_VALUE,
  group: [4, 5, 6],
  accept(c) {
    const m = c.match;
    const keyword = m[1];
    if (!keywordBoundary(c.text, m.index, keyword)) return false;
    // `scheme://user:pass@host` is the URL rule's: here the "key" would be the user name.
    if (c.text.slice(Math.max(0, keyStart(c.text, m.index) - 3), keyStart(c.text, m.index)).endsWith("//")) return false;
    let value = c.text.slice(c.start, c.end);
    const bare = m[6] !== undefined;
    const passwordKey = IS_PASSWORD_KEY.test(keyword);
    if (bare) {
      // Only a password after `:` may hold spaces (YAML); anything else ends at whitespace.
      const cut = passwordKey && m[3] === ":" ? value.search(/\s#|\s+$/) : value.search(/\s/);
      if (cut !== -1) value = value.slice(0, cut);
      c.end = c.start + value.length;
    }
    if (isReference(value)) return false;
    // Code, not configuration: `secret = await vault.read(…)`, `token: opts.onToken,`.
    if (bare && (value.includes("(") || c.text[c.end] === "(" || /^(?:await|new|this|function|async|typeof|require|lambda)$/.test(value))) return false;
    if (/^key$/i.test(keyword)) {
      const before = c.text[m.index - 1] ?? "";
      const camel = /[a-z0-9]/.test(before) && keyword[0] === "K";
      if (!(/[_.-]/.test(before) || camel) || !looksLikeRandomKey(value)) return false;
      return true;
    }
    // `:` (YAML, headers) and a spaced `=` (INI, code) also introduce words; a shell `TOKEN=x` does not.
    const spaced = m[3] === ":" || /[ \t](?:=>|:=|\?=|=)|(?:=>|:=|\?=|=)[ \t]/.test(m[0]);
    if (!passwordKey && bare && spaced && !looksLikeCredential(value)) return false;
    if (!passwordKey && m[3] !== ":" && /^[0-9]{1,6}$/.test(value)) return false;
    return true;
  },
  upstream: ["gitleaks:generic-api-key", "gitleaks:hashicorp-tf-password", "detect-secrets:KeywordDetector"],
};

/** A flag's value: quoted, or one word that is not itself a flag. */
const FLAG_VALUE = `("[^"\\n]{1,1024}"|'[^'\\n]{1,1024}'|[^\\s"'\`-][^\\s\`]{0,1023})`;
/** The rest of the command before a flag: same line, same simple command. */
const SAME_COMMAND = "[^\\n;|&]{0,1024}?\\s";

function toolFlag(tools: string, keywords: string[], flag: string, upstream: string[] = []): PatternRule {
  return {
    kind: "cli-password",
    keywords,
    re: new RegExp(`\\b(?:${tools})\\b${SAME_COMMAND}${flag}${FLAG_VALUE}`, "dg"),
    group: 1,
    accept: (c) => !isReference(unquote(c.text.slice(c.start, c.end))),
    upstream,
  };
}

function unquote(value: string): string {
  return /^(["']).*\1$/s.test(value) ? value.slice(1, -1) : value;
}

export const GENERIC_RULES: PatternRule[] = [
  // --password=x, --password x, --db-password 'x', --token x, --client-secret x …
  {
    kind: "cli-password",
    keywords: ["--"],
    re: new RegExp(
      `--(?:[a-z0-9]{1,20}-){0,3}(?:password|passwd|pass|passphrase|token|secret|secret-id|api-?key|secret-key|access-key|storepass|keypass)(?:=|\\s{1,5})${FLAG_VALUE}`,
      "dgi",
    ),
    group: 1,
    notAfter: /[A-Za-z0-9_-]/,
    accept: (c) => !isReference(unquote(c.text.slice(c.start, c.end))),
    upstream: ["detect-secrets:KeywordDetector"],
  },
  // mysql -pSECRET (attached: `-p SECRET` would be the database name; `-p` alone prompts).
  {
    kind: "cli-password",
    keywords: ["mysql", "mariadb"],
    re: /\b(?:mysql[a-z]{0,10}|mariadb(?:-[a-z]{1,10})?)\b[^\n;|&]{0,1024}?\s-p([^\s-][^\s]{0,1023})/dg,
    group: 1,
    accept: (c) => !isReference(unquote(c.text.slice(c.start, c.end))),
    upstream: [],
  },
  toolFlag("sshpass", ["sshpass"], "-p\\s{0,5}"),
  // curl -u user:pass, --user, --proxy-user; httpie/xh -a user:pass. The user is kept.
  {
    kind: "cli-password",
    keywords: ["curl", "http ", "https ", "xh "],
    re: /\b(?:curl|xh|https?(?=\s))\b[^\n;|&]{0,1024}?\s(?:-u|--user|-U|--proxy-user|-a|--auth)(?:=|\s{0,5})["']?[^\s:"'-][^\s:"']{0,255}:([^\s"']{1,1024})/dg,
    group: 1,
    upstream: ["gitleaks:curl-auth-user"],
  },
  toolFlag("docker|podman|nerdctl|buildah|skopeo|helm|oras|crane", ["login"], "login\\b[^\\n;|&]{0,512}?\\s-p(?:=|\\s{1,5})"),
  toolFlag("mongo(?:sh|dump|restore|export|import|stat|top|files)?", ["mongo"], "-p(?:=|\\s{1,5})?"),
  toolFlag("redis-cli|valkey-cli|keydb-cli", ["-cli"], "-a\\s{1,5}"),
  toolFlag("sqlcmd|bcp|osql|isql", ["sqlcmd", "bcp ", "osql", "isql"], "-P\\s{0,5}"),
  toolFlag("ldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop)", ["ldap"], "-w\\s{1,5}"),
  // smbclient -U user%pass
  {
    kind: "cli-password",
    keywords: ["smbclient", "rpcclient", "smbget", "smbmap", "smbcacls", "net ", "nxc ", "crackmapexec"],
    re: /\b(?:smbclient|rpcclient|smbget|smbmap|smbcacls|net|nxc|crackmapexec)\b[^\n;|&]{0,1024}?\s(?:-U|--user)(?:=|\s{1,5})["']?[^\s%"']{1,256}%([^\s"']{1,1024})/dg,
    group: 1,
    upstream: [],
  },
  // openssl … -passin pass:SECRET
  { kind: "cli-password", keywords: ["pass:"], re: /-pass(?:in|out|word)?\s{1,5}["']?pass:([^\s"']{1,1024})/dg, group: 1, upstream: [] },
  // htpasswd -b[c] file user SECRET
  { kind: "cli-password", keywords: ["htpasswd"], re: /\bhtpasswd\s{1,5}-[A-Za-z]{0,6}b[A-Za-z]{0,6}\s{1,5}[^\s-]\S{0,1023}\s{1,5}\S{1,256}\s{1,5}(\S{1,1024})/dg, group: 1, upstream: [] },
  // ~/.netrc: machine host login user password SECRET
  { kind: "netrc-password", keywords: ["machine"], re: /\bmachine\s{1,5}\S{1,256}\s{1,10}login\s{1,5}\S{1,256}\s{1,10}password\s{1,5}(\S{1,1024})/dg, group: 1, upstream: [] },
  // Docker's config.json: "auth" is base64 of user:password.
  {
    kind: "docker-auth",
    keywords: ["\"auth\"", "identitytoken", "registrytoken"],
    re: /"(?:auth|identitytoken|registrytoken)"\s{0,5}:\s{0,5}"([^"\\\n]{4,8192})"/dgi,
    group: 1,
    upstream: [],
  },
  // Azure connection strings and SAS URLs.
  {
    kind: "azure-key",
    keywords: ["accountkey", "sharedaccesskey", "sig="],
    re: /(?:(?:Account|SharedAccess)Key\s{0,3}=\s{0,3}([A-Za-z0-9+/=]{20,200})|[?&]sig=([A-Za-z0-9%+/=_-]{20,200}))/dgi,
    group: [1, 2],
    upstream: ["detect-secrets:AzureStorageKeyDetector"],
  },
  // Authorization: Bearer <token> / Basic <b64>; other schemes: the rest of the value.
  {
    kind: "auth-header",
    keywords: ["authorization"],
    re: /(?:proxy-)?authorization["']?\s{0,5}[:=]\s{0,5}["'`]?(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s{1,5})?([^\s"'`,;]{1,4096}(?:,\s{0,3}[A-Za-z]{1,20}=[^\s"',;]{1,512}){0,8})/dgi,
    group: 1,
    accept: (c) => !isReference(c.text.slice(c.start, c.end)),
    upstream: ["gitleaks:curl-auth-header"],
  },
  // scheme://user:pass@host — the password may hold a raw `@` (or `:`): the last `@` before the
  // host ends it. The user is kept.
  {
    kind: "url-password",
    keywords: ["://"],
    re: /:\/\/[^\s:/@"'<>]{0,256}:([^\s/"'<>]{1,256})@(?=[^\s/@"'<>]{1,256}(?:[\s/"'<>?#]|$))/dg,
    group: 1,
    upstream: ["detect-secrets:BasicAuthDetector"],
  },
  // <password>x</password> in XML configs.
  {
    kind: "xml-secret",
    keywords: ["password>", "passwd>", "secret>", "token>", "apikey>", "api_key>", "accesskey>", "secretkey>", "privatekey>"],
    re: /<((?:[A-Za-z]{0,20}:)?(?:password|passwd|secret|token|apikey|api_key|accesskey|secretkey|privatekey))>([^<\n]{1,1024})<\/\1>/dgi,
    group: 2,
    accept: (c) => !isReference(c.text.slice(c.start, c.end)),
    upstream: ["gitleaks:nuget-config-password"],
  },
  keyValue,
  // A private key's base64 body without its PEM header (pasted, or a header cut off): found by
  // the DER or OpenSSH prefix every private key starts with; public certificates do not.
  {
    kind: "private-key",
    keywords: ["mii", "mig", "mhccaqee", "mc4caqaw", "b3blbnnzac1rzxktdje"],
    re: /(?:MII[A-Za-z0-9+/]{3}(?:IBAAK|IBADAN|[A-Za-z0-9+/]{0,4}BgkqhkiG9w0BBQ)|MIG[A-Za-z0-9+/]AgEAM|MHcCAQEE|MIGkAgEBBD|MC4CAQAwBQYDK2Vw|b3BlbnNzaC1rZXktdjE)[A-Za-z0-9+/=]{16,16384}(?:(?:\r?\n|\\n)[ \t]{0,8}[A-Za-z0-9+/=]{4,16384}(?![^\s"',\\])){0,400}/g,
    notAfter: /[A-Za-z0-9+/]/,
    upstream: ["gitleaks:private-key", "detect-secrets:PrivateKeyDetector"],
  },
];
