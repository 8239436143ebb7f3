/**
 * The conservative allow-list: inspection commands and, for each, the options it may carry.
 * Options are matched exactly (no abbreviations); anything not listed needs approval.
 */

interface Spec {
  /** Short flags without a value, combinable (`-la`). */
  flags?: string;
  /** Short options that take a value (`-n 5`, `-n5`). */
  valued?: string;
  /** Long options without a value. */
  long?: string[];
  /** Long options with a value (`--lines=5` or `--lines 5`). */
  longValued?: string[];
  /** Accept `-20` (head/tail). */
  numeric?: boolean;
  /** Maximum number of positionals. */
  maxPositionals?: number;
  /** Extra check on the positionals; returns why not, or undefined. */
  positionals?: (p: string[]) => string | undefined;
  /** Full custom check of the arguments (replaces the generic option parser). */
  custom?: (args: string[]) => string | undefined;
  /** Rewrites the arguments before the generic parser (optional option values such as `-b -1`). */
  prepare?: (args: string[]) => string[];
}

const NUM = /^\d{1,9}$/;
const HEAD_TAIL: Spec = { flags: "qvz", valued: "nc", long: ["quiet", "silent", "verbose", "zero-terminated"], longValued: ["lines", "bytes"], numeric: true };

export const MIDDLEWARE = new Set(["psql", "mysql", "mariadb", "redis-cli", "mongo", "mongosh", "kubectl", "docker", "podman", "helm", "aws", "gcloud", "az", "terraform", "ansible", "vault", "consul", "etcdctl", "nomad", "oc", "k9s", "crictl", "ctr", "nerdctl", "sqlite3", "cqlsh", "influx", "rabbitmqctl", "kafka-topics"]);

export const ALLOW: Record<string, Spec> = {
  ls: { flags: "aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxX1Z", valued: "ITw", long: ["all", "almost-all", "human-readable", "si", "full-time", "group-directories-first", "no-group", "numeric-uid-gid", "reverse", "recursive", "size", "dereference", "directory", "classify", "inode", "literal", "context"], longValued: ["sort", "time-style", "time", "format", "color", "ignore", "hide", "block-size", "width", "indicator-style", "quoting-style"] },
  cat: { flags: "AbeEnstTuv", long: ["show-all", "number-nonblank", "number", "squeeze-blank", "show-ends", "show-tabs", "show-nonprinting"] },
  head: HEAD_TAIL,
  tail: HEAD_TAIL,
  wc: { flags: "clmwL", long: ["bytes", "chars", "lines", "words", "max-line-length"] },
  stat: { flags: "LftZ", valued: "c", long: ["dereference", "file-system", "terse"], longValued: ["format", "printf"] },
  file: { flags: "bhiLzkNs", long: ["brief", "mime", "mime-type", "mime-encoding", "dereference", "no-dereference", "uncompress"] },
  df: { flags: "ahHiklPTx", valued: "tx", long: ["all", "human-readable", "si", "inodes", "local", "portability", "print-type", "total"], longValued: ["type", "exclude-type", "output", "block-size"] },
  du: { flags: "abchHklLmsSxD0", valued: "dB", long: ["all", "apparent-size", "bytes", "total", "human-readable", "si", "summarize", "one-file-system", "dereference", "separate-dirs", "inodes", "null"], longValued: ["max-depth", "block-size", "threshold", "exclude", "time", "time-style"] },
  free: { flags: "bkmghltwv", valued: "", long: ["bytes", "kilo", "mega", "giga", "human", "si", "total", "wide", "lohi"], longValued: [], maxPositionals: 0 },
  uptime: { flags: "psV", long: ["pretty", "since"], maxPositionals: 0 },
  uname: { flags: "asnrvmpio", long: ["all", "kernel-name", "nodename", "kernel-release", "kernel-version", "machine", "processor", "hardware-platform", "operating-system"], maxPositionals: 0 },
  hostname: { flags: "fsiIdAa", long: ["fqdn", "short", "ip-address", "all-ip-addresses", "domain", "all-fqdns"], maxPositionals: 0 },
  hostnamectl: { custom: (a) => (a.length === 0 || (a.length === 1 && a[0] === "status") ? undefined : "only `hostnamectl [status]` is read-only") },
  timedatectl: { custom: (a) => (a.every((x) => /^(status|show|list-timezones|timesync-status|show-timesync|--no-pager)$/.test(x)) ? undefined : "only status/show verbs are read-only") },
  whoami: { maxPositionals: 0 },
  id: { flags: "gGnruzZa", long: ["group", "groups", "name", "real", "user", "zero", "context"], maxPositionals: 1 },
  groups: { maxPositionals: 1 },
  date: { flags: "uR", long: ["utc", "universal", "rfc-email"], longValued: ["iso-8601", "rfc-3339"], positionals: (p) => (p.every((x) => x.startsWith("+")) && p.length <= 1 ? undefined : "date with an operand other than +FORMAT sets the clock") },
  pwd: { flags: "LP", maxPositionals: 0 },
  echo: { flags: "n" },
  which: { flags: "a" },
  nproc: { long: ["all"], maxPositionals: 0 },
  arch: { maxPositionals: 0 },
  lscpu: { flags: "aebcepxyJ", maxPositionals: 0 },
  lsblk: { flags: "abdDfiJlmnOpPsStTzA", valued: "oxeI", long: ["all", "bytes", "discard", "fs", "json", "list", "perms", "paths", "pairs", "raw", "topology", "noheadings", "output-all", "tree"], longValued: ["output", "sort", "exclude", "include"] },
  lsmod: { maxPositionals: 0 },
  lspci: { flags: "vnkmtDPq", maxPositionals: 0 },
  lsusb: { flags: "vt", maxPositionals: 0 },
  basename: { flags: "az", valued: "s", long: ["multiple", "zero"], longValued: ["suffix"] },
  dirname: { flags: "z", long: ["zero"] },
  realpath: { flags: "eEmLPqsz", long: ["canonicalize-existing", "canonicalize-missing", "logical", "physical", "quiet", "strip", "no-symlinks", "zero"], longValued: ["relative-to", "relative-base"] },
  readlink: { flags: "efmnqsvz", long: ["canonicalize", "canonicalize-existing", "canonicalize-missing", "no-newline", "quiet", "silent", "verbose", "zero"] },
  md5sum: { flags: "bctwz", long: ["binary", "check", "tag", "text", "quiet", "status", "strict", "warn", "zero"] },
  sha1sum: { flags: "bctwz", long: ["binary", "check", "tag", "text", "quiet", "status", "strict", "warn", "zero"] },
  sha256sum: { flags: "bctwz", long: ["binary", "check", "tag", "text", "quiet", "status", "strict", "warn", "zero"] },
  sha512sum: { flags: "bctwz", long: ["binary", "check", "tag", "text", "quiet", "status", "strict", "warn", "zero"] },
  cksum: {},
  // No -r: a recursive diff of two trees prints every secret file in them.
  diff: { flags: "qsyiEbwBaNtuc", valued: "UC", long: ["brief", "report-identical-files", "side-by-side", "ignore-case", "ignore-all-space", "ignore-space-change", "ignore-blank-lines", "text", "unified", "new-file", "normal", "color"], longValued: ["unified", "context", "exclude"] },
  cmp: { flags: "blsz", long: ["print-bytes", "verbose", "quiet", "silent"] },
  grep: {
    flags: "EFGPivwxyclLoqsbHhnTZzUrRa",
    valued: "efmABCd",
    long: ["extended-regexp", "fixed-strings", "basic-regexp", "perl-regexp", "ignore-case", "no-ignore-case", "invert-match", "word-regexp", "line-regexp", "count", "files-with-matches", "files-without-match", "only-matching", "quiet", "silent", "no-messages", "byte-offset", "with-filename", "no-filename", "line-number", "initial-tab", "null", "null-data", "recursive", "dereference-recursive", "text", "binary"],
    longValued: ["regexp", "file", "max-count", "after-context", "before-context", "context", "include", "exclude", "exclude-dir", "color", "colour", "label", "binary-files", "devices", "directories"],
  },
  egrep: { flags: "ivwxclLoqsHhnrR", valued: "eABCm", long: ["ignore-case", "count", "line-number", "recursive"], longValued: ["include", "exclude", "color"] },
  fgrep: { flags: "ivwxclLoqsHhnrR", valued: "eABCm", long: ["ignore-case", "count", "line-number", "recursive"], longValued: ["include", "exclude", "color"] },
  sort: { flags: "bdfgiMhnRrVcCsuz", valued: "ktS", long: ["ignore-leading-blanks", "dictionary-order", "ignore-case", "general-numeric-sort", "ignore-nonprinting", "month-sort", "human-numeric-sort", "numeric-sort", "random-sort", "reverse", "version-sort", "check", "stable", "unique", "zero-terminated"], longValued: ["key", "field-separator", "buffer-size", "sort"] },
  uniq: { flags: "cdDiuz", valued: "fsw", long: ["count", "repeated", "ignore-case", "unique", "zero-terminated"], longValued: ["skip-fields", "skip-chars", "check-chars"], maxPositionals: 1 },
  cut: { flags: "nsz", valued: "bcdf", long: ["only-delimited", "complement", "zero-terminated"], longValued: ["bytes", "characters", "delimiter", "fields", "output-delimiter"] },
  sed: { custom: checkSed },
  find: { custom: checkFind },
  ps: { custom: checkPs },
  systemctl: { custom: checkSystemctl },
  journalctl: {
    flags: "abekmqrxlN",
    valued: "uSUnpoDMtgIFT",
    long: ["no-pager", "all", "pager-end", "reverse", "catalog", "dmesg", "quiet", "merge", "utc", "no-hostname", "full", "no-full", "list-boots", "disk-usage", "header", "system", "user", "fields", "list-catalog"],
    longValued: ["unit", "user-unit", "since", "until", "lines", "priority", "output", "directory", "boot", "identifier", "grep", "facility", "cursor", "after-cursor", "output-fields", "namespace", "case-sensitive", "machine"],
    positionals: (p) => (p.every((x) => /^[A-Z_]+=/.test(x)) ? undefined : "journalctl only takes FIELD=value matches"),
    // `-b` takes an optional boot offset or id: `journalctl -b -1`.
    prepare: (a) => a.flatMap((x, i) => (x === "-b" && /^(-?\d{1,4}|[0-9a-f]{32})$/.test(a[i + 1] ?? "") ? [`--boot=${a[i + 1]}`] : i > 0 && a[i - 1] === "-b" && /^(-?\d{1,4}|[0-9a-f]{32})$/.test(x) ? [] : [x])),
  },
  // Batch mode with a count only: interactive top reads keystrokes and never ends.
  top: { custom: checkTop },
  lsb_release: { flags: "vidrcas", long: ["all", "id", "description", "release", "codename", "short", "version"], maxPositionals: 0 },
  pgrep: { flags: "lavwcfinoxA", valued: "dgGOPstuUFr", long: ["list-name", "list-full", "inverse", "lightweight", "count", "full", "ignore-case", "newest", "oldest", "exact"], longValued: ["delimiter", "pgroup", "group", "older", "parent", "session", "terminal", "euid", "uid", "pidfile", "runstates"] },
  pidof: { flags: "sxcqz", valued: "o" },
  dmesg: { flags: "dekLrtTxHPSu", valued: "flsF", long: ["ctime", "decode", "kernel", "raw", "notime", "userspace", "human", "nopager", "show-delta", "syslog", "color", "reltime"], longValued: ["level", "facility", "time-format", "color", "buffer-size"], maxPositionals: 0 },
  ss: { flags: "hVHnrapleoimTsZzNbf46wxutdSMO0", valued: "AFf", long: ["numeric", "resolve", "all", "listening", "options", "extended", "memory", "processes", "info", "summary", "tcp", "udp", "unix", "raw", "ipv4", "ipv6", "no-header", "oneline"], longValued: ["query", "family"], positionals: (p) => (p.length <= 8 && p.every((x) => /^[a-z0-9:.*=!()-]+$/i.test(x)) ? undefined : "unexpected filter") },
  netstat: { flags: "tulnpaerisWgM46ovx", long: ["tcp", "udp", "listening", "numeric", "program", "all", "extend", "route", "interfaces", "statistics", "wide", "groups"], maxPositionals: 0 },
  ip: { custom: checkIp },
  w: { flags: "hsfuio", long: ["no-header", "short", "from", "ip-addr", "old-style"], maxPositionals: 1 },
  who: { flags: "abdHlmpqrstTuw", long: ["all", "boot", "heading", "count", "runlevel"], maxPositionals: 0 },
  last: { flags: "aFiRwx", valued: "n", longValued: ["limit", "since", "until"], numeric: true, maxPositionals: 2 },
  lastlog: { valued: "bt", maxPositionals: 0 },
  vmstat: { flags: "aSfmsdDpwtn", valued: "S", long: ["active", "forks", "slabs", "stats", "disk", "disk-sum", "wide", "timestamp"], positionals: countedInterval },
  iostat: { flags: "cdhkmNtxyzp", long: ["human", "pretty"], positionals: countedInterval },
  mpstat: { flags: "AuT", valued: "P", positionals: countedInterval },
  lsof: { flags: "nPlRtVbwU", valued: "pucgsdi", maxPositionals: 4, positionals: (p) => (p.some((x) => x.startsWith("+")) ? "lsof +options (+r repeats forever, +D walks trees) are not accepted" : undefined) },
  findmnt: { flags: "aAbcDfklnrsJuv", valued: "otSTFNO", long: ["all", "bytes", "canonicalize", "df", "first-only", "json", "list", "noheadings", "raw", "fstab", "mtab", "kernel", "real", "pseudo"], longValued: ["output", "types", "source", "target", "options"] },
  mount: { flags: "lv", valued: "t", long: ["show-labels", "verbose"], longValued: ["types"], maxPositionals: 0 },
  getent: { custom: (a) => (a.length >= 1 && /^(passwd|group|hosts|ahosts|ahostsv4|ahostsv6|services|protocols|networks|netgroup|ethers|rpc|initgroups)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-")) ? undefined : "getent database not on the list (shadow and gshadow hold secrets)") },
  sysctl: { flags: "aAbeNnqrX", long: ["all", "binary", "ignore", "names", "values", "quiet"], positionals: (p) => (p.every((x) => /^[a-z0-9_.*-]+$/i.test(x) && !x.includes("=")) ? undefined : "sysctl with a=b sets a kernel value") },
  getenforce: { maxPositionals: 0 },
  sestatus: { flags: "vb", maxPositionals: 0 },
  lsns: { flags: "Jlnru", valued: "opt", maxPositionals: 1 },
  tree: { flags: "adfFilpsughDrtvCnNQ", valued: "LIP", long: ["noreport", "du", "dirsfirst"], longValued: ["filelimit", "sort", "charset"] },
  crontab: { custom: (a) => (a.length === 1 && a[0] === "-l") || (a.length === 3 && a[0] === "-u" && a[2] === "-l") || (a.length === 3 && a[0] === "-l" && a[1] === "-u") ? undefined : "only crontab -l is read-only" },
  ping: { custom: (a) => (/^-c$/.test(a[0] ?? "") && /^([1-9]|10)$/.test(a[1] ?? "") && a.length === 3 && /^[a-z0-9.:-]+$/i.test(a[2]) ? undefined : "ping needs exactly `-c N HOST` (N ≤ 10) so it ends") },
  dig: { flags: "46", valued: "tcpxb", maxPositionals: 6, positionals: (p) => (p.every((x) => /^[@+]?[a-z0-9.:_=-]+$/i.test(x)) ? undefined : "unexpected dig argument") },
  host: { flags: "aCdlrsTv46", valued: "tcW", maxPositionals: 2 },
  nslookup: { positionals: (p) => (p.length >= 1 && p.length <= 2 ? undefined : "nslookup without a name is interactive") },
  test: { flags: "defhrswxLSbcpugknzO" },
  true: { maxPositionals: 0 },
  dpkg: { custom: (a) => (a.length >= 1 && /^(-l|-L|-s|-S|--list|--listfiles|--status|--search|--get-selections|--print-architecture)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-")) ? undefined : "only dpkg query options are read-only") },
  rpm: { custom: (a) => (a.length >= 1 && /^-q[ailfcdR]*$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-") || /^-[ailfcdR]+$/.test(x)) ? undefined : "only rpm -q queries are read-only") },
  "apt-cache": { custom: (a) => (a.length >= 1 && /^(policy|show|search|depends|rdepends|showpkg|madison|stats)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-")) ? undefined : "only apt-cache query verbs are read-only") },
  modinfo: { flags: "0abkn", valued: "F" },
  loginctl: { custom: (a) => (a.length >= 1 && /^(list-sessions|list-users|list-seats|session-status|user-status|show-session|show-user)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-") || x === "--no-pager") ? undefined : "only loginctl list/status verbs are read-only") },
};

function countedInterval(p: string[]): string | undefined {
  if (p.length === 0) return undefined;
  if (p.length === 2 && NUM.test(p[0]) && NUM.test(p[1]) && Number(p[1]) <= 100 && Number(p[0]) <= 60) return undefined;
  return "an interval without a count (≤ 100) never ends";
}

function checkTop(args: string[]): string | undefined {
  let batch = false;
  let count = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^-([bcHiS1]*)([ndpuUoEew])?(.*)$/.exec(a);
    if (!m || !a.startsWith("-")) return `top argument ${JSON.stringify(a)} is not on the accepted list`;
    if (m[1].includes("b")) batch = true;
    if (m[2]) {
      const value = m[3] || args[++i];
      if (value === undefined) return `top -${m[2]} needs a value`;
      if (m[2] === "n") {
        if (!/^([1-9]|10)$/.test(value)) return "top -n must be 1 to 10";
        count = true;
      }
    } else if (m[3]) return `top option ${JSON.stringify(a)} is not on the accepted list`;
  }
  return batch && count ? undefined : "top needs -b and -n N (N ≤ 10) so it does not wait for keys or run forever";
}

function checkSed(args: string[]): string | undefined {
  // Only `sed -n 'N,Mp' FILE…`: no e/w/r commands, no -i.
  if (args[0] !== "-n" || args.length < 2) return "only `sed -n N,Mp FILE` is read-only";
  if (!/^(\d+|\$)(,(\d+|\$))?p$/.test(args[1])) return "only a line-range print script (N,Mp) is accepted";
  if (args.slice(2).some((a) => a.startsWith("-"))) return "no further sed options are accepted";
  return undefined;
}

const FIND_OK_NOARG = new Set(["-print", "-print0", "-ls", "-xdev", "-mount", "-depth", "-follow", "-noleaf", "-empty", "-readable", "-writable", "-executable", "-not", "!", "-a", "-o", "-and", "-or", "-true", "-false", "-prune", "-nouser", "-nogroup", "-daystart", "-quit"]);
const FIND_OK_ARG = new Set(["-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type", "-xtype", "-maxdepth", "-mindepth", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size", "-newer", "-user", "-group", "-uid", "-gid", "-perm", "-links", "-inum", "-samefile", "-printf", "-fstype", "-lname", "-ilname", "-regextype", "-used"]);

function checkFind(args: string[]): string | undefined {
  let i = 0;
  while (i < args.length && /^-[HLP]$/.test(args[i])) i++;
  while (i < args.length && !args[i].startsWith("-") && args[i] !== "!") i++;
  for (; i < args.length; i++) {
    const a = args[i];
    if (FIND_OK_NOARG.has(a)) continue;
    if (FIND_OK_ARG.has(a)) {
      if (i + 1 >= args.length) return `find ${a} needs a value`;
      i++;
      continue;
    }
    if (/^-(delete|exec|execdir|ok|okdir|fprint|fprint0|fprintf|fls)$/.test(a)) return `find ${a} changes files or runs commands`;
    return `find expression ${JSON.stringify(a)} is not on the accepted list`;
  }
  return undefined;
}

function checkPs(args: string[]): string | undefined {
  const FORMS = /^(aux|auxf|auxww|axjf|ax|-ef|-efH|-eF|-ely|-e|-f|-F|-A|-a|-H|-l|-L|-T|-ww|-w|--forest|--no-headers|-eLf|-fp|-o|-eo|-p|-u|-U|-C|-g|-G|--sort|--pid|--ppid|--user|-q|-x)$/;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^--(sort|pid|ppid|user|format)=[a-zA-Z0-9_,%+:.-]+$/.test(a) && !/(^|[,=])(e|environ|ev)(,|$)/.test(a)) continue;
    if (!FORMS.test(a)) return `ps ${JSON.stringify(a)} is not on the accepted list (e.g. \`ps e\` shows environments)`;
    if (/^(-o|-eo|-fp|-p|-u|-U|-C|-g|-G|--sort|--pid|--ppid|--user|-q)$/.test(a)) {
      const v = args[++i];
      if (v === undefined || !/^[a-zA-Z0-9_,%+:=.-]+$/.test(v) || /(^|,)(e|environ|ev)(,|=|$)/.test(v)) return `ps ${a} needs a plain value`;
    }
  }
  return undefined;
}

const SYSTEMCTL_VERBS = new Set(["status", "show", "is-active", "is-enabled", "is-failed", "is-system-running", "list-units", "list-unit-files", "list-timers", "list-sockets", "list-dependencies", "list-jobs", "list-machines", "cat", "get-default", "help"]);

function checkSystemctl(args: string[]): string | undefined {
  const OK = /^(--no-pager|-l|--full|-a|--all|--failed|-q|--quiet|--plain|--no-legend|--value|-r|--recursive|--reverse|--user|--system|--lines=\d+|--type=[a-z,]+|--state=[a-z,-]+|--property=[A-Za-z,]+|--output=[a-z-]+|-n\d*|-t|-p|-o|--type|--state|--property|--output|--lines)$/;
  let verb: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-")) {
      if (!OK.test(a)) return `systemctl option ${JSON.stringify(a)} is not on the accepted list`;
      if (/^(-n|-t|-p|-o|--type|--state|--property|--output|--lines)$/.test(a)) i++;
      continue;
    }
    if (verb === undefined) {
      verb = a;
      if (!SYSTEMCTL_VERBS.has(a)) return `systemctl ${a} is not a read-only verb`;
    }
  }
  return undefined;
}

function checkIp(args: string[]): string | undefined {
  let i = 0;
  while (i < args.length && /^-(4|6|s|d|br|brief|c|color|j|json|p|pretty|o|oneline|details|stats)$/.test(args[i])) i++;
  const object = args[i];
  const rest = args.slice(i + 1);
  if (object === undefined) return "ip needs an object";
  if (!/^(a|addr|address|l|link|r|route|n|neigh|neighbour|rule|maddr|maddress|netns|tunnel|-)$/.test(object)) return `ip ${object} is not on the accepted list`;
  if (rest.length === 0) return undefined;
  if (!/^(show|list|ls|lst|sh|s|get)$/.test(rest[0])) return `ip ${object} ${rest[0]} is not a read-only verb`;
  if (rest.slice(1).some((a) => a.startsWith("-"))) return "no options after the ip verb";
  return undefined;
}

/** Why these arguments are not acceptable for `name`, or undefined when they are. */
export function checkOptions(name: string, args: string[]): string | undefined {
  // Own keys only: `toString` or `constructor` must not find Object.prototype's.
  const spec = Object.hasOwn(ALLOW, name) ? ALLOW[name] : undefined;
  if (!spec) return `${name} is not on the allow-list`;
  if (spec.custom) return spec.custom(args);
  if (spec.prepare) args = spec.prepare(args);
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const opt = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (spec.long?.includes(opt) && eq < 0) continue;
      if (spec.longValued?.includes(opt)) {
        if (eq < 0) {
          if (i + 1 >= args.length) return `${name} --${opt} needs a value`;
          i++;
        }
        continue;
      }
      return `${name} option --${opt} is not on the accepted list (options are matched exactly)`;
    }
    if (a.startsWith("-") && a.length > 1) {
      if (spec.numeric && /^-\d+$/.test(a)) continue;
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        if (spec.valued?.includes(c)) {
          if (k === a.length - 1) {
            if (i + 1 >= args.length) return `${name} -${c} needs a value`;
            i++;
          }
          break;
        }
        if (!spec.flags?.includes(c)) return `${name} option -${c} is not on the accepted list`;
      }
      continue;
    }
    positionals.push(a);
  }
  if (spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) return `${name} takes at most ${spec.maxPositionals} operand(s) when read-only`;
  return spec.positionals?.(positionals);
}

const SENSITIVE: [RegExp, string][] = [
  [/(^|\/)g?shadow([.-][^/]*)?$|(^|\/)opasswd$/, "password hashes"],
  [/(^|\/)sudoers(\.d)?(\/|$)/, "sudo configuration"],
  [/(^|\/)\.ssh(\/|$)/, "SSH keys and config"],
  [/(^|\/)id_(rsa|dsa|ecdsa|ed25519)[^/]*$/, "an SSH private key"],
  [/(^|\/)ssh_host_[a-z0-9]+_key$/, "an SSH host private key"],
  [/(^|\/)\.env(\.[^/]*)?$|(^|\/)\.envrc$/, "an environment file with secrets"],
  [/\.(pem|key|p12|pfx|jks|keystore|kdbx|gpg|asc|ppk)$/i, "a private key or key store"],
  [/(^|\/)(ssl|tls|pki)\/private(\/|$)/, "private TLS keys"],
  [/(^|\/)\.(aws|azure|gcloud|kube|docker|gnupg|password-store|vault-token|config\/gcloud)(\/|$)/, "cloud or cluster credentials"],
  [/(^|\/)\.(netrc|pgpass|my\.cnf|git-credentials|npmrc|pypirc|boto|s3cfg|htpasswd)$/, "stored credentials"],
  [/(^|[/._-])(credentials|secrets?)(\.[a-z]+)*(\/|$)/i, "credentials"],
  [/^\/proc\/.+\/(environ|mem|cmdline)$/, "another process's environment or memory"],
  [/^\/proc\/kcore$|^\/dev\/(k?mem|port)$/, "raw kernel memory"],
  [/_history$|(^|\/)\.history$|(^|\/)\.lesshst$/, "shell history (may hold secrets)"],
  [/^\/etc\/(kubernetes|rancher|wireguard)(\/|$)|(^|\/)k3s\.yaml$|(^|\/)kubeconfig$/, "cluster or VPN credentials"],
  [/(^|\/)(debian\.cnf|wp-config\.php|rclone\.conf|hosts\.yml|\.terraformrc|\.pgpass|\.dockercfg|smbpasswd|sasl_passwd|passdb\.tdb)$|\.keytab$|(^|\/)system-connections(\/|$)/, "stored credentials"],
  [/(^|\/)(vault\.json|opsterm\/vault)/, "the opsterm vault"],
  [/^\/(root)(\/|$)/, "root's home"],
];

/** Why a word names a secret, or undefined. Checks the whole word and anything after `=`. */
export function sensitivePath(word: string): string | undefined {
  const candidates = [word];
  const eq = word.indexOf("=");
  if (eq >= 0) candidates.push(word.slice(eq + 1));
  for (const c of candidates) {
    for (const [re, why] of SENSITIVE) if (re.test(c)) return why;
  }
  return undefined;
}

const GREP_VALUED = "efmABCd";

/**
 * Recursive grep reads every file of a tree, .env files and private keys included; it is
 * auto-allowed only under /var/log. Also `-d recurse` and `--directories=recurse`.
 */
export function recursiveSecretRead(name: string, args: string[]): string | undefined {
  if (!/^(grep|egrep|fgrep)$/.test(name)) return undefined;
  let recursive = false;
  let pattern = false;
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      if (/^--(recursive|dereference-recursive|directories=recurse)$/.test(a)) recursive = true;
      if (/^--(regexp|file)(=|$)/.test(a)) pattern = true;
      if (/^--(regexp|file|directories|max-count|after-context|before-context|context|include|exclude|exclude-dir|color|colour|label|binary-files|devices)$/.test(a)) {
        if (a === "--directories" && args[i + 1] === "recurse") recursive = true;
        i++;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        if (c === "r" || c === "R") recursive = true;
        if (GREP_VALUED.includes(c)) {
          const value = k === a.length - 1 ? args[++i] : a.slice(k + 1);
          if (c === "d" && value === "recurse") recursive = true;
          if (c === "e" || c === "f") pattern = true;
          break;
        }
      }
      continue;
    }
    positionals.push(a);
  }
  if (!recursive) return undefined;
  const paths = pattern ? positionals : positionals.slice(1);
  if (paths.length === 0) return "recursive grep of the current directory (your home: ~/.ssh, .env)";
  const outside = paths.find((p) => !/^\/var\/log(\/|$)/.test(p) || p.split("/").includes(".."));
  return outside !== undefined ? `recursive grep over ${outside} may read secrets (.env files, private keys); only /var/log is auto-allowed` : undefined;
}

/** Programs that print names or metadata, not contents: a device path is harmless for them. */
const NAMES_ONLY = new Set(["ls", "stat", "lsblk", "findmnt", "df", "du", "realpath", "readlink", "basename", "dirname", "test", "file", "lsof", "find", "tree", "which", "echo"]);

/** Reading a device: a raw disk holds every secret on it; /dev/zero and friends never end. */
export function deviceRead(name: string, args: string[]): string | undefined {
  if (NAMES_ONLY.has(name)) return undefined;
  const dev = args.map((a) => a.slice(a.indexOf("=") + 1)).find((a) => /^\/dev\//.test(a) && a !== "/dev/null");
  return dev !== undefined ? `reads the device ${dev} (a raw disk holds every file's data; streams like /dev/zero never end)` : undefined;
}
