/**
 * Paths as the kernel will resolve them, and the classes of paths a command must not read
 * without approval: credentials (by class, not a short list), other users' homes and /root,
 * devices and kernel memory, and files that never end (/proc/kmsg, trace_pipe).
 *
 * Every rule sees the normalised path: `//etc/./shadow` and `/var/../etc/shadow` are
 * `/etc/shadow`. A relative path that climbs out of the working directory (`../../etc/shadow`)
 * has no known base, so it is never auto-allowed.
 */

export interface NormPath {
  /** The normalised spelling: no `//`, no `/./`, `..` resolved where the base is known. */
  path: string;
  /** Relative and climbs above its start (`../x`): where it lands depends on the working directory. */
  escapes: boolean;
}

const CACHE = new Map<string, NormPath>();

/** Lexical normalisation (symlinks aside, which only /proc/<pid>/root|cwd|fd can abuse: those are secrets). */
export function normalisePath(raw: string): NormPath {
  let hit = CACHE.get(raw);
  if (hit) return hit;
  const absolute = raw.startsWith("/");
  const out: string[] = [];
  let escapes = false;
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) {
        escapes = true;
        out.push("..");
      }
      continue;
    }
    out.push(part);
  }
  const path = absolute ? "/" + out.join("/") : out.join("/") || ".";
  hit = { path, escapes };
  if (CACHE.size > 8192) CACHE.clear();
  CACHE.set(raw, hit);
  return hit;
}

/** A word that names a path (absolute, relative with a slash, or a dotted name). */
export function looksLikePath(word: string): boolean {
  return word.includes("/") || word.startsWith(".");
}

/**
 * Credential files as classes. Each entry: a test over the normalised path and what it holds.
 * Relative paths are tested as they are (`.ssh/id_rsa`, `.env`).
 */
const SECRET_CLASSES: [RegExp, string][] = [
  [/(^|\/)g?shadow([.-][^/]*)?$|(^|\/)opasswd$|(^|\/)(master\.passwd|spwd\.db)$/, "password hashes"],
  [/(^|\/)sudoers(\.d)?(\/|$)|(^|\/)doas\.conf$/, "sudo configuration"],
  [/(^|\/)\.ssh(\/|$)|(^|\/)id_(rsa|dsa|ecdsa|ed25519)[^/]*$|(^|\/)ssh_host_[a-z0-9]+_key$|(^|\/)authorized_keys2?$/, "SSH keys"],
  [/(^|\/)\.env(\.[^/]*)?$|(^|\/)\.envrc$|(^|\/)[^/]*\.env$/, "an environment file with secrets"],
  [/\.(pem|key|p12|pfx|jks|keystore|truststore|kdbx|kdb|gpg|pgp|asc|ppk|keyring|keytab|psk|ovpn|age|tfstate|tfvars)$/i, "a private key, key store or credential file"],
  [/(^|\/)(ssl|tls|pki)\/private(\/|$)|(^|\/)private[-_]?keys?(\/|$)|(^|\/)privkey[^/]*$/i, "private keys"],
  [/(^|\/)\.(aws|azure|gcloud|kube|docker|gnupg|password-store|vault-token|m2|gradle|cargo|gem|nuget|composer|terraform\.d|config\/gcloud|config\/gh|config\/hub|config\/rclone|config\/containers|local\/share\/keyrings|pki|mozilla|thunderbird|irssi|weechat|cert)(\/|$)/, "cloud, build-tool or application credentials"],
  [/(^|\/)\.?(netrc|pgpass|my\.cnf|mylogin\.cnf|git-credentials|npmrc|yarnrc(\.yml)?|pypirc|boto|s3cfg|htpasswd[^/]*|smbcredentials|msmtprc|muttrc|fetchmailrc|netrc\.gpg|dockercfg|lftp|wgetrc|curlrc|authinfo|forward)$/, "stored credentials"],
  [/(^|[/._-])(credentials?|secrets?|passwords?|passwd\.client|tokens?|apikeys?|api[-_]keys?)([._-][^/]*)?(\/|$)/i, "credentials"],
  [/(^|\/)auth\.json$|(^|\/)\.?dockerconfigjson$|(^|\/)config\.json$/, "registry or application credentials (auth.json, config.json)"],
  [/(^|\/)settings(-security)?\.xml$/, "build-tool credentials (Maven settings.xml)"],
  [/(^|\/)(gitlab-runner|gitlab|drone|buildkite-agent|jenkins|teamcity|github-runner|actions-runner)(\/|$)|(^|\/)credentials\.xml$/, "CI runner configuration (registration tokens)"],
  [/(^|\/)grafana\.ini$|(^|\/)(grafana|influxdb|telegraf|prometheus|alertmanager|loki)\/[^/]*\.(ini|conf|toml|ya?ml)$/, "monitoring credentials"],
  [/(^|\/)wpa_supplicant[^/]*(\/|$)|(^|\/)hostapd[^/]*\.conf$|(^|\/)system-connections(\/|$)|(^|\/)iwd\/[^/]*\.(psk|8021x)$/, "Wi-Fi or network passwords"],
  [/(^|\/)sssd(\/|$)|(^|\/)sss(\/|$)|(^|\/)(krb5kdc|krb5\.keytab|ldap\.secret|nslcd\.conf|pam_ldap\.conf|slapd\.conf|libnss-ldap\.conf|ldap\.conf)$|(^|\/)samba\/private(\/|$)|(^|\/)(smbpasswd|passdb\.tdb|secrets\.tdb)$/, "directory-service credentials"],
  [/(^|\/)letsencrypt\/(accounts|keys|archive|live|csr)(\/|$)|(^|\/)acme[^/]*\/[^/]*\.(json|key)$/, "ACME account or certificate keys"],
  [/(^|\/)\.?opsterm(\/|$)|(^|\/)\.config\/opsterm(\/|$)|(^|\/)(vault\.json|opsterm\/vault)/, "opsterm's own configuration or vault"],
  [/^\/etc\/(kubernetes|rancher|wireguard|openvpn|ipsec\.d|strongswan|swanctl|cni|ceph|cockpit|postfix\/sasl)(\/|$)|^\/var\/lib\/(rancher|kubelet|etcd|k3s|docker\/swarm|jenkins|gitlab-runner|sss|samba\/private)(\/|$)|(^|\/)k3s\.ya?ml$|(^|\/)(node-)?token$|(^|\/)kubeconfig[^/]*$|(^|\/)admin\.conf$/, "cluster or VPN credentials"],
  [/(^|\/)(debian\.cnf|wp-config\.php|rclone\.conf|hosts\.yml|\.terraformrc|terraform\.rc|sasl_passwd(\.db)?|passwd\.client|chap-secrets|pap-secrets|ipsec\.secrets|local\.php|database\.yml|secrets\.yml|master\.key|parameters\.yml|settings\.php|LocalSettings\.php|configuration\.php|\.pgpass|zabbix_[a-z]+\.psk)$/, "application credentials"],
  [/_history$|(^|\/)\.history$|(^|\/)\.lesshst$|(^|\/)\.viminfo$|(^|\/)\.python_history$|(^|\/)\.(mysql|psql|sqlite|rediscli|node_repl)_history$/, "shell or tool history (may hold secrets)"],
  [/^\/proc\/[^/]+\/(environ|mem|cmdline|auxv|pagemap|syscall|stack|maps|smaps|root|cwd|fd|fdinfo|map_files|exe|task)(\/|$)|^\/proc\/(kcore|kpagecount|kpageflags|kpagecgroup)$|^\/proc\/[^/]+\/task\/[^/]+\/(environ|mem|cmdline|fd)(\/|$)|^\/dev\/(k?mem|port|fd)(\/|$)|^\/sys\/kernel\/debug(\/|$)|^\/sys\/firmware\/(efi\/efivars|dmi\/tables)(\/|$)/, "another process's environment or memory, or raw kernel memory"],
  [/^\/root(\/|$)|^\/var\/root(\/|$)/, "root's home"],
  [/^\/(home|Users|export\/home)\/[^/]+(\/|$)/, "a user's home directory (another user's files)"],
  [/^\/(var\/lib|var\/spool|srv|opt)\/[^/]+\/\.[^/.][^/]*(\/|$)/, "a service account's dotfiles"],
  [/(^|\/)\.git\/config$|(^|\/)\.gitconfig$|(^|\/)\.git-credentials$/, "git remotes with credentials"],
  [/(^|\/)(\.mysql|\.redis|\.mongo)[^/]*rc$|(^|\/)\.(s3|rclone|boto|ftp|lftp)[^/]*$/, "client credentials"],
  [/^\/etc\/environment$|(^|\/)(my\.cnf|redis\.conf|userlist\.txt|pip\.conf|\.erlang\.cookie|odbc\.ini|\.pip\/pip\.conf)$|(^|\/)apt\/auth\.conf(\.d)?(\/|$)|(^|\/)pgbouncer\//, "service passwords (environment, database, repository and queue configs)"],
  [/^\/var\/lib\/(mysql|postgresql|pgsql|redis|mongodb|rabbitmq|cloud)(\/|$)|(^|\/)user-data(\.txt)?$|(^|\/)(vendor-data|cloud-config)(\.txt)?$/, "database files or cloud-init user data (passwords, hashes, tokens)"],
];

/** Devices and streams that never end or block: reading them hangs an agent or a workflow. */
const ENDLESS = /^\/proc\/kmsg$|(^|\/)trace_pipe(_raw)?$|^\/dev\/(zero|urandom|random|full|kmsg|tty[^/]*|console|stdin|pts(\/.*)?|input(\/.*)?|log)$/;

/** All classes in one pattern: most paths match none, and one test is cheaper than thirty. */
const ANY_SECRET = new RegExp(SECRET_CLASSES.map(([re]) => `(?:${re.source})`).join("|"), "i");

/** Why a (normalised) path holds secrets, or undefined. */
export function secretClass(path: string): string | undefined {
  if (!ANY_SECRET.test(path)) return undefined;
  for (const [re, why] of SECRET_CLASSES) if (re.test(path)) return why;
  return undefined;
}

/** Why reading this path never ends, or undefined. */
export function endlessPath(path: string): string | undefined {
  return ENDLESS.test(path) ? "it is a stream that never ends (or waits for input)" : undefined;
}

/** A raw device (block, character, memory) or a /dev path other than /dev/null. */
export function devicePath(path: string): boolean {
  return /^\/dev\//.test(path) && path !== "/dev/null";
}

/**
 * A directory tree that holds secrets somewhere below it: `/`, `/etc`, homes, `/root`,
 * `/var/lib`, `/run`, `/srv`, `/opt`, … Recursive readers need approval for these; only
 * `/var/log` (and below) is auto-allowed for them.
 */
export function logTree(path: string): boolean {
  return /^\/var\/log(\/|$)/.test(path);
}

/**
 * Checks one word that a tool reads as a path. Returns the rule class and why, or undefined.
 * `content`: the tool prints or compares what is in the file (not just its name or size).
 */
export function pathFinding(word: string, content: boolean): { rule: string; reason: string } | undefined {
  if (word === "" || word === "-") return undefined;
  const n = normalisePath(word);
  if (n.escapes) return { rule: "approval.sensitive-path", reason: `${word} climbs out of the working directory (..), so what it names depends on where the command runs` };
  const secret = secretClass(n.path);
  if (secret) return { rule: "approval.sensitive-path", reason: `${word}${n.path !== word ? ` (${n.path})` : ""} may hold ${secret}` };
  if (content) {
    const endless = endlessPath(n.path);
    if (endless) return { rule: "approval.never-ends", reason: `${n.path}: ${endless}` };
    if (devicePath(n.path)) return { rule: "approval.device", reason: `reads the device ${n.path} (a raw disk holds every file's data; some devices never end)` };
  }
  return undefined;
}
