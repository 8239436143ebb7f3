/**
 * Hard safety rules: commands no user rule can make acceptable. They judge one argv at a time
 * (the engine feeds them every command, looked through wrappers) plus redirection targets.
 */
import { findHasFilters, findStartPaths, programName } from "./wrappers.ts";

export interface Hit {
  rule: string;
  reason: string;
}

const SYSTEM_DIRS = new Set([
  "/bin", "/boot", "/boot/efi", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/usr", "/var",
  "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/share", "/usr/include", "/usr/src", "/usr/local/bin", "/usr/local/lib",
  "/var/lib", "/var/log", "/var/spool", "/var/cache", "/var/backups", "/var/mail", "/var/www", "/var/opt", "/var/run", "/etc/ssh", "/etc/systemd", "/etc/ssl", "/etc/pam.d",
]);

/** Normalises an absolute path: // → /, ., .., trailing / and trailing /* (contents of). */
function normalise(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  while (out.length && /^(\*|\.\*|\*\*)$/.test(out[out.length - 1])) out.pop();
  // /proc/self/root and /proc/PID/root are the root directory.
  while (out[0] === "proc" && out[2] === "root" && out.length >= 3) out.splice(0, 3);
  return "/" + out.join("/");
}

/** True for `/`, system directories, home directories and globs that reach them. */
export function isCriticalPath(raw: string): boolean {
  let p = raw.trim();
  if (p === "" ) return false;
  if (/^~[^/]*\/?(\*|\.\*)?$/.test(p)) return true;
  if (p.startsWith("~")) p = "/home/user" + p.slice(p.indexOf("/") >= 0 ? p.indexOf("/") : p.length);
  // Relative paths only reach a system directory through `..` (the cwd is not known).
  if (!p.startsWith("/") && !p.split("/").includes("..")) return false;
  const candidates = p.startsWith("/") ? [p] : ["/root/" + p, "/home/user/" + p];
  for (const c of candidates) {
    const n = normalise(c);
    if (n === "/" || SYSTEM_DIRS.has(n) || n === "/home/user" || n === "/root") return true;
    // A glob in a component right below / or a system directory reaches it.
    const segs = n.split("/").filter(Boolean);
    const g = segs.findIndex((s) => /[*?[]/.test(s));
    if (g >= 0) {
      const parent = "/" + segs.slice(0, g).join("/");
      if (parent === "/") return true;
      if (SYSTEM_DIRS.has(parent)) {
        // Below a system directory only a broad glob (`*`, `?*`, `[a-z]*`, `s*`) or one that can
        // name a system directory (`/etc/ss*`, `/usr/*/bin`) counts; `/var/log/*.gz` does not.
        const literal = segs[g].replace(/\[[^\]]*\]/g, "").replace(/[*?.]/g, "");
        if (literal.length <= 1) return true;
        const re = globRegex(n);
        for (const d of SYSTEM_DIRS) if (re.test(d)) return true;
      }
    }
  }
  return false;
}

// Loop, zram and RAM disks are made for images and swap (`mkswap /dev/zram0`): not hard rules.
const SAFE_DEV = /^\/dev\/(loop\d+(p\d+)?|zram\d+|ram\d+|null|zero|tcp\/.*|udp\/.*|full|u?random|tty\w*|stdin|stdout|stderr|fd\/.*|pts\/.*|shm(\/.*)?|mqueue(\/.*)?|ptmx|console|log|kmsg)$/;

/** Block devices, raw memory and the like: /dev/sda, /dev/nvme0n1p1, /dev/mapper/x, /dev/mem. */
export function isDevice(raw: string): boolean {
  const p = raw.startsWith("/") ? normalise(raw) : raw;
  return p.startsWith("/dev/") && !SAFE_DEV.test(p);
}

/** Splits an argv into option words and positionals (`--` ends options). */
function splitArgs(args: string[]): { options: string[]; positionals: string[] } {
  const options: string[] = [];
  const positionals: string[] = [];
  let done = false;
  for (const a of args) {
    if (!done && a === "--") done = true;
    else if (!done && a.startsWith("-") && a.length > 1) options.push(a);
    else positionals.push(a);
  }
  return { options, positionals };
}

/** Short letters in any cluster, or a long option given in full or abbreviated (`--rec`: getopt accepts unique prefixes). */
function hasShort(options: string[], letters: string, longs: string[]): boolean {
  return options.some((o) => {
    if (!o.startsWith("--")) return [...o.slice(1)].some((c) => letters.includes(c));
    const name = o.split("=")[0].slice(2);
    return name.length > 0 && longs.some((l) => l.startsWith(name));
  });
}

/** The SysRq trigger or switch, also through a glob (`/proc/sysrq-t*`). */
export function isSysrqPath(word: string, globs = false): boolean {
  if (word.includes("sysrq-trigger") || /\/proc\/sys\/kernel\/sysrq$/.test(word)) return true;
  if (!globs || !/[*?[]/.test(word) || !/sys|rq|trig|^\/proc\//.test(word)) return false;
  const re = globRegex(word.includes("/") ? word : `*/${word}`);
  return re.test("/proc/sysrq-trigger") || re.test("/proc/sys/kernel/sysrq");
}

/** A shell glob as a regular expression (`*`, `?`, `[…]`); `*` also crosses `/` (over-approximation). */
export function globRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        re += "[" + glob.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Hard rule for one argv (already looked through wrappers), or undefined. */
export function checkArgv(argv: string[]): Hit | undefined {
  if (argv.length === 0) return undefined;
  const name = programName(argv[0]);
  let args = argv.slice(1);
  if (args.some((a) => isSysrqPath(a, name === "tee")) || (name === "sysctl" && args.some((a) => /kernel\.sysrq\s*=/.test(a)))) {
    return { rule: "hard.sysrq", reason: "writes to the magic SysRq trigger (can crash or reboot the host at once)" };
  }
  switch (name) {
    case "rm":
    case "unlink":
    case "rmdir": {
      const { options, positionals } = splitArgs(args);
      if (options.some((o) => o.length > 4 && "--no-preserve-root".startsWith(o))) return { rule: "hard.rm-root", reason: "rm --no-preserve-root disables the last guard against deleting /" };
      // `…/**` is what an unfiltered `find / | xargs rm` or `find / -exec rm {} +` hands rm: every file.
      const recursive = hasShort(options, "rR", ["recursive"]) || positionals.some((p) => p.endsWith("/**"));
      const target = positionals.find(isCriticalPath);
      if (recursive && target !== undefined) return { rule: "hard.rm-root", reason: `recursive delete of ${JSON.stringify(target)}, which is / or a system or home directory` };
      return undefined;
    }
    case "shred":
    case "wipefs":
    case "blkdiscard":
    case "mkswap":
    case "mke2fs":
    case "badblocks":
    case "cryptsetup":
    case "zpool":
    case "pvcreate":
    case "vgremove":
    case "sfdisk":
    case "sgdisk":
    case "fdisk":
    case "parted":
    case "dd": {
      if (name === "dd") {
        const of = args.find((a) => a.startsWith("of="));
        if (of && isDevice(of.slice(3))) return { rule: "hard.dd-device", reason: `dd writes to the device ${of.slice(3)}` };
        return undefined;
      }
      if (["fdisk", "parted", "sfdisk", "zpool", "cryptsetup"].includes(name)) {
        const destructive = name === "sfdisk" ? args.some((a) => a === "--delete" || a === "--wipe") : name === "cryptsetup" ? args.some((a) => /^(luksFormat|erase|luksErase)$/.test(a)) : name === "zpool" ? args.some((a) => /^(destroy|labelclear)$/.test(a)) : name === "parted" ? args.some((a) => /^(mklabel|rm|mkpart)$/.test(a)) : false;
        if (destructive && args.some(isDevice)) return { rule: "hard.mkfs-device", reason: `${name} destroys data on a block device` };
        return undefined;
      }
      if (name === "sgdisk" && !args.some((a) => /^(-Z|-o|--zap-all|--zap|--clear)$/.test(a))) return undefined;
      if (name === "badblocks" && !args.some((a) => /^-[a-zA-Z]*w/.test(a))) return undefined;
      const dev = args.find(isDevice);
      if (dev) return { rule: name === "wipefs" ? "hard.wipefs" : "hard.mkfs-device", reason: `${name} destroys the data on ${dev}` };
      return undefined;
    }
    case "tee":
    case "cp":
    case "mv":
    case "install":
    case "rsync":
    case "cat":
    case "pv": {
      const { options, positionals } = splitArgs(args);
      // `mv /etc /tmp/x` takes a system directory away; `rsync -a --delete /empty/ /` empties one.
      if (name === "mv") {
        const target = options.find((o) => o.startsWith("--target-directory=")) ?? (options.some((o) => /^-[a-zA-Z]*t$/.test(o)) ? undefined : positionals[positionals.length - 1]);
        const moved = positionals.filter((p) => p !== target).find((p) => isCriticalPath(p) && !/[*?[]$/.test(p.replace(/\/+$/, "")));
        if (moved !== undefined && positionals.length > 1) return { rule: "hard.rm-root", reason: `mv moves ${JSON.stringify(moved)}, / or a system or home directory, away` };
      }
      if (name === "rsync" && options.some((o) => /^--(del|delete(-\w+)?|remove-source-files)$/.test(o)) && positionals.length > 1 && isCriticalPath(positionals[positionals.length - 1])) {
        return { rule: "hard.rm-root", reason: `rsync --delete into ${JSON.stringify(positionals[positionals.length - 1])} deletes a system directory tree` };
      }
      const dev = name === "tee" ? positionals.find(isDevice) : ["cp", "mv", "install", "rsync"].includes(name) && positionals.length > 1 && isDevice(positionals[positionals.length - 1]) ? positionals[positionals.length - 1] : undefined;
      if (dev) return { rule: "hard.write-device", reason: `${name} overwrites the device ${dev}` };
      return undefined;
    }
    case "chmod":
    case "chown":
    case "chgrp":
    case "setfacl":
    case "chattr": {
      const { options, positionals } = splitArgs(args);
      if (!hasShort(options, "R", ["recursive"]) && !positionals.some((p) => p.endsWith("/**"))) return undefined;
      // Every operand: the mode or owner is never a critical path, and a mode like `-x` looks
      // like an option, so positionals.slice(1) would skip the target.
      const ref = args.indexOf("--reference");
      // Web roots and data mounts are chowned recursively every day; that does not break the host.
      const target = positionals.filter((p) => ref < 0 || p !== args[ref + 1]).find((p) => isCriticalPath(p) && !/^\/(var\/www|srv|mnt|media|opt)(\/|$)/.test(p.startsWith("/") ? normalise(p) + "/" : p));
      if (target !== undefined) return { rule: name === "chmod" || name === "setfacl" || name === "chattr" ? "hard.chmod-root" : "hard.chown-root", reason: `recursive ${name} of ${JSON.stringify(target)}, a system directory: breaks the host` };
      return undefined;
    }
    case "killall5":
      return { rule: "hard.kill-all", reason: "killall5 signals every process on the host" };
    case "kill":
    case "pkill":
    case "killall": {
      if (name === "pkill" || name === "killall") {
        // `pkill -v x` signals every process but x; `pkill .` / `killall -r .` match every name.
        const { options, positionals } = splitArgs(args);
        if (name === "pkill" && options.some((o) => /^-[a-zA-Z]*v/.test(o) || o === "--inverse")) return { rule: "hard.kill-all", reason: "pkill -v signals every process that does not match" };
        if ((name === "pkill" || options.some((o) => /^-[a-zA-Z]*r/.test(o) || o === "--regexp")) && positionals.some((p) => /^(\^?\.[*+]?\$?|\.\*|)$/.test(p))) return { rule: "hard.kill-all", reason: `${name} with a pattern that matches every process name` };
        // `pkill -u root` / `killall -u root` without a name: every process root runs (sshd, systemd, …).
        const userAt = args.findIndex((a) => a === "-u" || a === "-U" || a === "--user" || a === "--uid" || a === "--euid");
        const user = userAt >= 0 ? args[userAt + 1] : args.find((a) => /^(-[uU]|--(user|uid|euid)=)/.test(a))?.replace(/^(-[uU]|--\w+=)/, "");
        const names = positionals.filter((p) => p !== user);
        if (user !== undefined && /^(root|0)(,|$)/.test(user) && names.length === 0) return { rule: "hard.kill-all", reason: `${name} -u ${user} without a name signals every process root runs` };
        return undefined;
      }
      args = args.map((a) => (/^-0+1$/.test(a) ? "-1" : a));
      if (args.length === 1 && args[0] === "-1") return { rule: "hard.kill-all", reason: "kill -1 signals every process you may signal" };
      let sigSeen = false;
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--") {
          if (args.slice(i + 1).includes("-1")) return { rule: "hard.kill-all", reason: "kill with pid -1 signals every process" };
          break;
        }
        if (a === "-s" || a === "-n" || a === "--signal") {
          sigSeen = true;
          i++;
          continue;
        }
        if (a === "-1" && sigSeen) return { rule: "hard.kill-all", reason: "kill with pid -1 signals every process" };
        if (a.startsWith("-") && !sigSeen) {
          sigSeen = true;
          continue;
        }
        sigSeen = true;
      }
      return undefined;
    }
    case "find": {
      const { paths, exprStart } = findStartPaths(argv);
      if (!argv.slice(exprStart).includes("-delete")) return undefined;
      const root = paths.find(isCriticalPath);
      if (root !== undefined && !findHasFilters(argv, exprStart)) return { rule: "hard.find-delete-root", reason: `find -delete under ${JSON.stringify(root)} deletes a system directory tree` };
      return undefined;
    }
    case "shutdown":
    default:
      break;
  }
  if (/^mkfs(\..+)?$|^mkdosfs$|^mkntfs$|^mkexfatfs$/.test(name)) {
    const dev = args.find(isDevice);
    if (dev) return { rule: "hard.mkfs-device", reason: `${name} formats ${dev}, destroying its data` };
  }
  return undefined;
}

const WRITE_OPS = new Set([">", ">>", ">|", "&>", "&>>", "<>", ">&"]);

/** Hard rule for a redirection: writing to a block device or the SysRq trigger. */
export function checkRedirect(op: string, target: string): Hit | undefined {
  if (!WRITE_OPS.has(op)) return undefined;
  if (isSysrqPath(target, true)) return { rule: "hard.sysrq", reason: "writes to the magic SysRq trigger (can crash or reboot the host at once)" };
  if (isDevice(target)) return { rule: "hard.write-device", reason: `redirection overwrites the device ${target}` };
  return undefined;
}

/** Interpreter code that forks without end (perl -e 'fork while fork'). */
export function isForkBombCode(code: string): boolean {
  return /loop\s*(do|\{)\s*(Process\.)?fork|fork\s*(\(\s*\))?\s*while\s*fork|while\s*(\(\s*(1|true|True)\s*\)|\s+(1|true|True)\s*:?)[\s{:]*\S*\s*fork\s*\(|for\s*\(\s*;\s*;\s*\)\s*\{?\s*fork/.test(code);
}
