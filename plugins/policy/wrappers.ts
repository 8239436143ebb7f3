/**
 * Looking through wrappers: `sudo -u x rm …`, `env A=1 rm …`, `timeout 5 rm …`, `xargs rm`,
 * `find … -exec rm {} +`, `bash -c '…'`, `busybox rm`, `git -c core.pager=…`. Each step yields
 * the inner argv (judged again) or a script text (parsed again).
 */
import { baseName } from "./shell.ts";

export interface Unwrapped {
  /** The wrapper that was looked through, e.g. "sudo". */
  wrapper: string;
  /** The wrapped command, when there is one. */
  argv?: string[];
  /** Shell text the wrapper runs (bash -c, su -c, eval, watch, ssh, env -S, awk system()). */
  scripts: string[];
  /** Positional parameters the scripts see (`bash -c '…' $0 $1 …`). */
  vars?: Record<string, string[]>;
  /** The wrapper runs what it reads on stdin as shell code (`sh`, `bash -s`, `at now`). */
  readsStdin?: boolean;
  /** Directory the wrapped command starts in (`env -C /`, `sudo -D /`). */
  cwd?: string;
}

interface OptionTable {
  /** Short options that take a value. */
  valued: string;
  /** Long options that take a value (without the leading --). */
  longValued?: string[];
  /** Stop at the first word that is not an option (most wrappers). */
  positionalsBefore?: number;
}

const TABLES: Record<string, OptionTable> = {
  sudo: { valued: "ugpCDhrtTUR", longValued: ["user", "group", "prompt", "close-from", "chdir", "host", "role", "type", "command-timeout", "other-user", "chroot"] },
  doas: { valued: "uC" },
  pkexec: { valued: "", longValued: ["user"] },
  timeout: { valued: "sk", longValued: ["signal", "kill-after"], positionalsBefore: 1 },
  nice: { valued: "n", longValued: ["adjustment"] },
  nohup: { valued: "" },
  stdbuf: { valued: "ioe", longValued: ["input", "output", "error"] },
  ionice: { valued: "cnp", longValued: ["class", "classdata", "pid", "pgid", "uid"] },
  chrt: { valued: "TPD", longValued: ["sched-runtime", "sched-period", "sched-deadline"], positionalsBefore: 1 },
  taskset: { valued: "", positionalsBefore: 1 },
  setsid: { valued: "" },
  command: { valued: "" },
  builtin: { valued: "" },
  exec: { valued: "a" },
  time: { valued: "fo", longValued: ["format", "output"] },
  unbuffer: { valued: "" },
  fakeroot: { valued: "isl" },
  proxychains: { valued: "f" },
  proxychains4: { valued: "f" },
  torsocks: { valued: "ua", longValued: ["user", "pass", "address", "port"] },
  firejail: { valued: "" },
  chroot: { valued: "", longValued: ["userspec", "groups"], positionalsBefore: 1 },
  nsenter: { valued: "tSGwr", longValued: ["target", "setuid", "setgid", "wd", "root"] },
  unshare: { valued: "", longValued: ["setgroups", "map-user", "map-group"] },
  "systemd-run": { valued: "pEMuH", longValued: ["unit", "property", "setenv", "machine", "uid", "gid", "description", "slice", "working-directory", "on-active", "on-boot", "on-calendar", "on-unit-active", "on-startup", "on-unit-inactive", "host", "nice", "service-type", "timer-property", "path-property", "socket-property"] },
  strace: { valued: "eoOpPsSuXIaEb", longValued: ["output", "attach", "user", "env", "trace", "signal", "status"] },
  ltrace: { valued: "eoOpsuaAnlxLF", longValued: ["output", "library"] },
  catchsegv: { valued: "" },
  caffeinate: { valued: "tw" },
  "xvfb-run": { valued: "nsfep", longValued: ["server-num", "server-args", "auth-file", "error-file"] },
  "dbus-launch": { valued: "" },
  flatpak: { valued: "" },
  sg: { valued: "", positionalsBefore: 1 },
  runuser: { valued: "ugsw", longValued: ["user", "group", "supp-group", "shell", "whitelist-environment"] },
  su: { valued: "gGsw", longValued: ["group", "supp-group", "shell", "whitelist-environment"] },
};

export const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "rbash", "yash", "posh", "busybox-sh"]);
export const INTERPRETERS = new Set([
  "python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php", "lua", "tclsh", "Rscript", "deno", "bun", "pwsh", "osascript", "expect", "gdb", "jshell", "irb", "awk", "gawk", "mawk", "nawk", "busybox-awk",
]);

const NAMES = new Map<string, string>();

/** `python3.11` → `python3`, `/usr/bin/rm` → `rm`. Memoized: the rules ask for it many times per word. */
export function programName(argv0: string): string {
  let name = NAMES.get(argv0);
  if (name === undefined) {
    const base = baseName(argv0);
    const m = /^(python[23]?|perl|ruby|php|lua|node)[\d.]*$/.exec(base);
    name = m ? m[1] : base;
    if (NAMES.size >= 4096) NAMES.clear();
    NAMES.set(argv0, name);
  }
  return name;
}

/** Skips a wrapper's options; returns the index of the wrapped command (or argv.length). */
function skipOptions(argv: string[], table: OptionTable): number {
  let i = 1;
  let positionals = table.positionalsBefore ?? 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      // getopt_long accepts unique prefixes: `sudo --us root …` is `--user root`.
      const name = a.slice(2).split("=")[0];
      i += !a.includes("=") && name !== "" && table.longValued?.some((l) => l.startsWith(name)) ? 2 : 1;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // -u root, -uroot, -Eu root: the first valued letter takes the rest or the next word.
      let consumedNext = false;
      for (let k = 1; k < a.length; k++) {
        if (table.valued.includes(a[k])) {
          if (k === a.length - 1) consumedNext = true;
          break;
        }
      }
      i += consumedNext ? 2 : 1;
      continue;
    }
    if (positionals > 0) {
      positionals--;
      i++;
      continue;
    }
    break;
  }
  while (positionals > 0 && i < argv.length) {
    positionals--;
    i++;
  }
  return i;
}

/** One step of looking through argv[0], or undefined when argv[0] is not a wrapper. */
export function unwrap(argv: string[], stdinWords?: string[]): Unwrapped | undefined {
  if (argv.length === 0) return undefined;
  const name = programName(argv[0]);
  const table = Object.hasOwn(TABLES, name) ? TABLES[name] : undefined;
  if (table) {
    if (name === "command" && argv.slice(1).some((a) => /^-[pVv]*[vV]/.test(a))) return { wrapper: name, scripts: [] };
    if (name === "su" || name === "runuser") {
      const su = unwrapSu(name, argv, table);
      // `su`, `su -`, `su root` without -c: a login shell that reads commands from stdin.
      return su.scripts.length || su.argv ? su : { ...su, argv: ["sh"] };
    }
    let start = skipOptions(argv, table);
    if (name === "sg" && start < argv.length) return { wrapper: name, scripts: [argv.slice(start).join(" ")] };
    if (name === "sudo" && argv.slice(1, start).some((a) => /^-[a-zA-Z]*e/.test(a) || a === "--edit")) return { wrapper: "sudoedit", scripts: [] };
    if (name === "chroot" && start >= argv.length) return { wrapper: name, argv: ["sh"], scripts: [] };
    const inner = argv.slice(start);
    const chdir = name === "sudo" ? optionValue(argv.slice(0, start), "D", "chdir") : undefined;
    if (chdir && inner.length) return { wrapper: name, argv: inner, scripts: [], cwd: chdir };
    // `sudo -s`, `sudo -i`, `doas -s` without a command: a shell that reads commands from stdin.
    if (inner.length === 0 && /^(sudo|doas)$/.test(name) && argv.slice(1, start).some((a) => /^-[a-zA-Z]*[si]/.test(a) || a === "--shell" || a === "--login")) return { wrapper: name, argv: ["sh"], scripts: [] };
    return { wrapper: name, argv: inner.length ? inner : undefined, scripts: [] };
  }
  switch (name) {
    case "env":
      return unwrapEnv(argv);
    case "xargs":
      return unwrapXargs(argv, stdinWords);
    case "busybox":
    case "toybox":
      return argv.length > 1 ? { wrapper: name, argv: argv.slice(argv[1] === "sh" || argv[1] === "ash" ? 1 : 1), scripts: [] } : undefined;
    case "eval":
      return { wrapper: name, scripts: [argv.slice(1).join(" ")] };
    case "watch": {
      let i = 1;
      let exec = false;
      while (i < argv.length && argv[i].startsWith("-")) {
        if (/^-[a-zA-Z]*x/.test(argv[i]) || argv[i] === "--exec") exec = true;
        if (/^-[a-zA-Z]*[nq]$/.test(argv[i]) || argv[i] === "--interval") i++;
        i++;
      }
      const rest = argv.slice(i);
      return exec ? { wrapper: name, argv: rest, scripts: [] } : { wrapper: name, scripts: [rest.join(" ")] };
    }
    case "flock": {
      let i = 1;
      const scripts: string[] = [];
      for (let k = 1; k < argv.length; k++) {
        if (argv[k] === "-c" || argv[k] === "--command") scripts.push(argv[k + 1] ?? "");
      }
      if (scripts.length) return { wrapper: name, scripts };
      while (i < argv.length && argv[i].startsWith("-")) {
        if (/^-[wEe]$|^--(timeout|wait|conflict-exit-code)$/.test(argv[i])) i++;
        i++;
      }
      i++; // the lock file
      return { wrapper: name, argv: argv.length > i ? argv.slice(i) : undefined, scripts };
    }
    case "ssh":
      return unwrapSsh(argv);
    case "find":
      return unwrapFind(argv);
    case "git":
      return unwrapGit(argv);
    case "alias":
      return { wrapper: name, scripts: argv.slice(1).map((a) => a.replace(/^[^=]*=/, "")) };
    case "trap":
      return { wrapper: name, scripts: argv.length > 1 ? [argv[1]] : [] };
    case "script": {
      const i = argv.findIndex((a) => a === "-c" || a === "--command");
      return i > 0 ? { wrapper: name, scripts: [argv[i + 1] ?? ""] } : undefined;
    }
    case "parallel": {
      // parallel CMD ::: ARGS…  runs `CMD ARG` for each ARG (and `CMD` alone reads args from stdin).
      let k = 1;
      while (k < argv.length && argv[k].startsWith("-")) k += /^(-[jPSNnLlaEIC]|--(jobs|sshlogin|max-args|arg-file|delimiter|eof|tmpdir|results|joblog|colsep|max-replace-args|timeout|delay))$/.test(argv[k]) ? 2 : 1;
      const words = argv.slice(k);
      const sep = words.findIndex((a) => /^:::+$/.test(a));
      const cmd = (sep >= 0 ? words.slice(0, sep) : words).join(" ");
      const args = sep >= 0 ? words.slice(sep + 1).filter((a) => !/^:::+$/.test(a)) : [];
      return { wrapper: name, scripts: args.length ? args.slice(0, 16).map((a) => `${cmd} ${a}`) : [cmd] };
    }
    case "at":
    case "batch":
      return { wrapper: name, scripts: [], readsStdin: !argv.includes("-f") && !argv.slice(1).some((a) => /^-[a-zA-Z]*[lrdc]$/.test(a)) };
    default:
      break;
  }
  if (SHELLS.has(name)) return unwrapShell(name, argv);
  if (INTERPRETERS.has(name)) return { wrapper: name, scripts: codeStrings(argv.slice(1)) };
  return undefined;
}

/**
 * `bash [options] -c SCRIPT [$0 [$1 …]]`: with -c the script is the first operand after every
 * option (`bash -c -- '…'`, `bash -e -c '…'`, `bash -O extglob -c '…'`); without, the shell runs
 * a file or what it reads on stdin.
 */
function unwrapShell(name: string, argv: string[]): Unwrapped {
  let command = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--" || a === "-") {
      i++;
      break;
    }
    if (/^--(rcfile|init-file)$/.test(a) || /^[-+][oO]$/.test(a)) {
      i++;
      continue;
    }
    if (a.startsWith("--")) continue;
    if (/^[-+][a-zA-Z]+$/.test(a)) {
      if (a[0] === "-" && a.includes("c")) command = true;
      continue;
    }
    break;
  }
  if (!command) return { wrapper: name, scripts: [], readsStdin: i >= argv.length || argv.slice(1).some((a) => /^-[a-zA-Z]*s[a-zA-Z]*$/.test(a)) };
  const vars: Record<string, string[]> = {};
  argv.slice(i + 1, i + 11).forEach((a, k) => (vars[String(k)] = [a]));
  return { wrapper: name, scripts: [argv[i] ?? ""], vars };
}

function unwrapSu(name: string, argv: string[], table: OptionTable): Unwrapped {
  const scripts: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-c" || a === "--command" || a === "--session-command") scripts.push(argv[++i] ?? "");
    else if (a.startsWith("--command=")) scripts.push(a.slice(10));
    else if (a === "--") return { wrapper: name, argv: argv.slice(i + 1), scripts };
    else if (a.startsWith("-") && a.length === 2 && table.valued.includes(a[1])) i++;
  }
  return { wrapper: name, scripts };
}

/** Value of `-X V`, `-XV`, `--long V` or `--long=V` in an option list. */
function optionValue(args: string[], short: string, long: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === `-${short}` || a === `--${long}`) return args[i + 1];
    if (a.startsWith(`--${long}=`)) return a.slice(long.length + 3);
    if (new RegExp(`^-[a-zA-Z]*${short}.`).test(a) && !a.startsWith("--")) return a.slice(a.indexOf(short) + 1);
  }
  return undefined;
}

function unwrapEnv(argv: string[]): Unwrapped {
  let cwd: string | undefined;
  const scripts: string[] = [];
  let i = 1;
  while (i < argv.length) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-S" || a === "--split-string") {
      scripts.push([argv[i + 1] ?? "", ...argv.slice(i + 2)].join(" "));
      return { wrapper: "env", scripts };
    }
    if (a.startsWith("-S") || a.startsWith("--split-string=")) {
      scripts.push([a.startsWith("-S") ? a.slice(2) : a.slice(15), ...argv.slice(i + 1)].join(" "));
      return { wrapper: "env", scripts };
    }
    if (a === "-C" || /^--ch/.test(a)) cwd = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
    else if (a.startsWith("-C")) cwd = a.slice(2);
    if (/^-[uC]$/.test(a) || (/^--[a-z-]+$/.test(a) && ["unset", "chdir", "block-signal", "default-signal", "ignore-signal"].some((l) => l.startsWith(a.slice(2))) && a.length > 3)) {
      i += 2;
      continue;
    }
    if (a.startsWith("-")) {
      // `env -` is `env -i`.
      i++;
      continue;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      i++;
      continue;
    }
    break;
  }
  const inner = argv.slice(i);
  return { wrapper: "env", argv: inner.length ? inner : undefined, scripts, cwd };
}

function unwrapXargs(argv: string[], stdinWords?: string[]): Unwrapped {
  const valued = new Set(["-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--process-slot-var"]);
  let i = 1;
  let replace: string | undefined;
  while (i < argv.length && argv[i].startsWith("-") && argv[i] !== "-") {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-I") replace = argv[i + 1];
    else if (/^-I./.test(a)) replace = a.slice(2);
    else if (a === "-i" || a.startsWith("--replace")) replace = a.includes("=") ? a.split("=")[1] : "{}";
    const long = a.startsWith("--") && !a.includes("=") && a.length > 3 && [...valued].some((v) => v.startsWith("--") && v.startsWith(a));
    i += valued.has(a) || long ? 2 : 1;
  }
  const inner = argv.slice(i);
  const input = stdinWords && stdinWords.length ? stdinWords : ["{stdin}"];
  if (inner.length === 0) return { wrapper: "xargs", argv: ["echo", ...input], scripts: [] };
  const filled = replace ? inner.flatMap((a) => (a.includes(replace) ? input.map((w) => a.split(replace).join(w)) : [a])) : [...inner, ...input];
  return { wrapper: "xargs", argv: filled, scripts: [] };
}

function unwrapSsh(argv: string[]): Unwrapped {
  const valued = "BbcDEeFIiJLlmOoPpQRSWw";
  let i = 1;
  while (i < argv.length && argv[i].startsWith("-")) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    const last = a[a.length - 1];
    i += a.length === 2 && valued.includes(last) ? 2 : 1;
  }
  const rest = argv.slice(i + 1);
  return { wrapper: "ssh", scripts: rest.length ? [rest.join(" ")] : [] };
}

const FIND_FILTERS = /^-(i?name|i?path|i?wholename|i?regex|newer\w*|[acm](time|min)|size|user|group|uid|gid|perm|empty|inum|links|samefile|lname|ilname|readable|writable|executable|used)$/;

/** Start paths of a find invocation (after -H/-L/-P/-D/-O). */
export function findStartPaths(argv: string[]): { paths: string[]; exprStart: number } {
  let i = 1;
  while (i < argv.length && /^-[HLP]$|^-D$|^-O\d*$/.test(argv[i])) i += argv[i] === "-D" ? 2 : 1;
  const paths: string[] = [];
  while (i < argv.length && !/^[-(!),]/.test(argv[i])) paths.push(argv[i++]);
  return { paths: paths.length ? paths : ["."], exprStart: i };
}

/**
 * True when tests before the first action narrow what find matches (so {} is not the whole
 * tree). Tests after the action (`find / -delete -name x`) or beside an -o/-not do not count:
 * find evaluates left to right, and `-name x -o -delete` deletes everything else.
 */
export function findHasFilters(argv: string[], from: number): boolean {
  let filtered = false;
  for (let i = from; i < argv.length; i++) {
    const a = argv[i];
    if (/^-(exec|execdir|ok|okdir|delete)$/.test(a)) return filtered;
    if (/^(-o|-or|!|-not|,)$/.test(a)) return false;
    // `-name '*'` narrows nothing.
    if (FIND_FILTERS.test(a) && !/^(\*|\.\*|\*\*)$/.test(argv[i + 1] ?? "")) filtered = true;
    if (a === "-mindepth" && argv[i + 1] !== "0") return false;
  }
  return filtered;
}

/** The start paths as "every file under them" (`/**`): what an unfiltered find hands on. */
export function wholeTree(paths: string[]): string[] {
  return paths.map((p) => (p.endsWith("/") ? `${p}**` : `${p}/**`));
}

function unwrapFind(argv: string[]): Unwrapped | undefined {
  const { paths, exprStart } = findStartPaths(argv);
  const filtered = findHasFilters(argv, exprStart);
  for (let i = exprStart; i < argv.length; i++) {
    if (/^-(exec|execdir|ok|okdir)$/.test(argv[i])) {
      let j = i + 1;
      while (j < argv.length && argv[j] !== ";" && argv[j] !== "+") j++;
      const inner = argv.slice(i + 1, j);
      const fill = filtered ? ["{}"] : wholeTree(paths);
      // GNU find replaces {} inside words too (`sh -c 'rm -rf {}'`).
      const argvInner = inner.flatMap((a) => (a === "{}" ? fill : a.includes("{}") ? [a.split("{}").join(fill.join(" "))] : [a]));
      return { wrapper: "find", argv: argvInner, scripts: [] };
    }
  }
  return undefined;
}

const GIT_CODE_KEYS = /^(core\.(pager|editor|sshcommand|fsmonitor|askpass|hookspath)|alias\..*|.*\.(command|helper|cmd|textconv|process|clean|smudge|tool)|credential\.helper|sequence\.editor|diff\.external|gpg\.program|.*\.program)$/i;

function unwrapGit(argv: string[]): Unwrapped | undefined {
  const scripts: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const kv = a === "-c" ? argv[i + 1] : a.startsWith("--config-env") ? undefined : a.startsWith("-c") && a.length > 2 ? a.slice(2) : undefined;
    if (kv) {
      const eq = kv.indexOf("=");
      const key = eq >= 0 ? kv.slice(0, eq) : kv;
      const value = eq >= 0 ? kv.slice(eq + 1) : "";
      if (GIT_CODE_KEYS.test(key)) scripts.push(value.replace(/^!/, ""));
    }
  }
  return scripts.length ? { wrapper: "git", scripts } : undefined;
}

/**
 * String literals inside inline interpreter code (awk 'BEGIN{system("…")}', perl -e, python -c),
 * plus the code itself, to be parsed as shell text for the hard rules.
 */
export function codeStrings(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a.startsWith("-") && a.length < 4) continue;
    const re = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`|qx\{([^}]*)\}/g;
    const literals: string[] = [];
    for (let m = re.exec(a); m; m = re.exec(a)) {
      const s = (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").replace(/\\(.)/g, "$1");
      literals.push(s);
      if (/[a-z]/.test(s) && s.length < 2048) out.push(s);
    }
    // Argument lists: subprocess.run(["rm", "-rf", "/"]), system("rm", "-rf", "/").
    if (literals.length > 1 && literals.length <= 64) out.push(literals.map((l) => (/^[\w./:=@%+,-]*$/.test(l) ? l : `'${l.replace(/'/g, "")}'`)).join(" "));
    // Library calls that delete a tree: shutil.rmtree("/"), FileUtils.rm_rf("/"), fs.rmSync("/", …).
    const tree = /\b(rmtree|rm_rf|rm_r|remove_tree|RemoveAll|rmSync|rmdirSync|rimraf|deleteRecursively)\s*\(?\s*(["'])(.*?)\2/g;
    for (let m = tree.exec(a); m; m = tree.exec(a)) out.push(`rm -rf '${m[3].replace(/'/g, "")}'`);
  }
  return out;
}
