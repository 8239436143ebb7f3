/**
 * Command variants generated from the allow-list's own option tables: every option with and
 * without arguments, attached and detached, abbreviated, combined short flags, optional
 * arguments followed by a refused option (`journalctl -n --vacuum-time=1s`), enum values and
 * their prefixes, and operands in every path spelling (secrets included). Plus hand-written
 * seeds for tools with their own parsers and the attack lines.
 */
import { TOOL_NAMES, toolRole, toolTable, toolValues } from "../../../../plugins/policy/tools.ts";

const SECRET_SPELLINGS = ["/etc/shadow", "//etc//shadow", "/etc/./shadow", "/var/../etc/shadow", "/home/alice/.netrc", "/home/alice", "/root/.ssh/id_rsa", "../../etc/shadow", "/tmp/work/.env", ".env", "dir/../.env", "/srv/app"];
const OPERANDS: Record<string, string[]> = {
  content: ["a.txt", "/tmp/work/b.txt", "/var/log/syslog", "/etc/hostname", "dir/x.log"],
  names: ["/tmp/work", "/var/log", "a.txt", "/srv/app/README", "dir"],
  none: [""],
};
const VALUES = ["1", "3", "x", "a.txt", "/var/log/syslog", "/etc/shadow", "//etc/shadow", "/home/alice/.netrc"];
const DANGER_NEXT = ["-r", "-f", "--follow", "-w", "-c"];

/** Shortest prefix of `long` that no other long option of the table starts with. */
function shortestPrefix(long: string, all: string[]): string | undefined {
  for (let n = 1; n < long.length; n++) {
    const p = long.slice(0, n);
    if (all.filter((l) => l.startsWith(p)).length === 1) return p;
  }
  return undefined;
}

export function generateVariants(): string[] {
  const out = new Set<string>();
  let k = 0;
  const pick = <T>(list: T[]) => list[k++ % list.length];
  for (const name of [...TOOL_NAMES].sort()) {
    const t = toolTable(name);
    const role = toolRole(name) ?? "none";
    const operands = [...OPERANDS[role], ...(role === "none" ? [] : SECRET_SPELLINGS)];
    const op = () => pick(operands);
    if (!t) continue;
    const longs = t.defs.map((d) => d.long).filter((l): l is string => Boolean(l));
    const denied = t.defs.filter((d) => d.deny).map((d) => (d.long ? `--${d.long}${d.arity === "required" ? "=1s" : ""}` : `-${d.short}${d.arity === "required" ? " 1" : ""}`));
    const values = toolValues(name);
    const add = (args: string) => out.add(`${name} ${args}`.replace(/\s+/g, " ").trim());
    for (const d of t.defs) {
      const o = op();
      const v = pick(VALUES);
      const dangerous = denied.length ? pick(denied) : pick(DANGER_NEXT);
      const abbr = d.long ? shortestPrefix(d.long, longs) : undefined;
      const enumValues = d.long ? values[`--${d.long}`] ?? [] : [];
      if (d.arity === "none") {
        if (d.short) add(`-${d.short} ${o}`);
        if (d.long) add(`--${d.long} ${o}`);
        if (abbr) add(`--${abbr} ${o}`);
        if (d.long) add(`--${d.long}=${v} ${o}`);
      } else if (d.arity === "required") {
        if (d.short) {
          add(`-${d.short}${v} ${o}`);
          add(`-${d.short} ${v} ${o}`);
          add(`-${d.short} ${dangerous} ${o}`);
        }
        if (d.long) {
          add(`--${d.long}=${v} ${o}`);
          add(`--${d.long} ${v} ${o}`);
          add(`--${d.long} ${dangerous} ${o}`);
        }
        if (abbr) add(`--${abbr}=${v} ${o}`);
      } else {
        if (d.short) {
          add(`-${d.short} ${o}`);
          add(`-${d.short}${v} ${o}`);
          add(`-${d.short} ${v} ${o}`);
          add(`-${d.short} ${dangerous} ${o}`);
        }
        if (d.long) {
          add(`--${d.long} ${o}`);
          add(`--${d.long}=${v} ${o}`);
          add(`--${d.long} ${dangerous} ${o}`);
        }
        if (abbr) add(`--${abbr} ${dangerous} ${o}`);
      }
      for (const ev of enumValues) {
        add(`--${d.long}=${ev} ${o}`);
        if (ev.length > 2) add(`--${d.long}=${ev.slice(0, Math.ceil(ev.length / 2))} ${o}`);
        if (d.short) add(`-${d.short} ${ev.slice(0, 3)} ${o}`);
      }
    }
    // Combined short flags: every pair of argument-less flags, and a flag followed by a valued one.
    const flags = t.defs.filter((d) => d.short && d.arity === "none").map((d) => d.short!);
    const valued = t.defs.filter((d) => d.short && d.arity !== "none").map((d) => d.short!);
    for (let i = 0; i < flags.length; i++) {
      add(`-${flags[i]}${flags[(i + 1) % flags.length]} ${op()}`);
      if (valued.length) add(`-${flags[i]}${pick(valued)}${pick(VALUES)} ${op()}`);
    }
    for (const s of SECRET_SPELLINGS) add(`${s}`);
  }
  for (const seed of SEEDS) out.add(seed);
  return [...out];
}

/** Tools with their own parsers, the classes and everyday forms. */
export const SEEDS = [
  "ip a", "ip addr", "ip a s", "ip addr show dev lo", "ip l", "ip link", "ip l sh", "ip link show lo", "ip link s lo down", "ip l s lo down", "ip link set lo down", "ip r", "ip ro", "ip r s", "ip route get 127.0.0.1",
  "ip ru", "ip rule list", "ip n", "ip neigh show", "ip -br a", "ip -s -s link", "ip -j a", "ip -4 addr show", "ip -details link", "ip a d 127.0.0.1/8 dev lo", "ip a f dev lo", "ip r f all", "ip n f all", "ip -b /etc/shadow",
  "ps aux", "ps -ef", "ps -eo pid,comm", "ps -p 1", "ps aux --sort=-%mem", "ps e", "ps auxe", "ps -o environ",
  "find /tmp/work -name '*.txt'", "find /tmp/work -type f -mtime -1", "find /var/log -name '*.log' -print", "find /tmp/work -delete", "find /tmp/work -fprint x",
  "sed -n 1,2p a.txt", "sed -n 1p /var/log/syslog", "top -b -n 1", "top -bn1", "top -b -n 2 -d 0.5", "top -b -n 1 -d 100",
  "lsof -nP", "lsof -i", "lsof -i -r", "lsof -i :22", "lsof -p 1", "lsof -r 1", "lsof +r 1", "lsof -nPi -r",
  "getent passwd root", "getent group", "getent hosts", "getent shadow", "getent hosts example.com",
  "crontab -l", "echo hello", "echo -n hi", "test -f a.txt", "which ls", "true", "date", "date +%F", "date -u", "date --iso-8601", "date --iso-8601=sec", "date -Iseconds", "date --iso-8601 --set=2001-01-01", "date --rfc-3339=date", "date -R", "date -d yesterday", "date 010100002001", "date -s 2001-01-01",
  "journalctl -n 5 --no-pager", "journalctl -n --vacuum-time=1s", "journalctl --lines --vacuum-size=1", "journalctl -b -1 -n 3", "journalctl -b --rotate", "journalctl --case-sensitive --vacuum-time=1s", "journalctl -f", "journalctl --no-pager -u ssh -n 2", "journalctl -p err -b --no-pager -n 5", "journalctl --disk-usage",
  "systemctl status", "systemctl status ssh --no-pager", "systemctl is-active ssh", "systemctl list-units --no-pager", "systemctl list-timers --no-pager", "systemctl show ssh", "systemctl cat ssh", "systemctl --failed --no-pager",
  "grep -d rec -H '' /etc", "grep -d recurse x /var/log", "grep --directories=recu x /etc", "grep -r error /var/log", "grep -rn error /var/log/nginx", "grep -R x .", "grep -r x", "grep -E 'error|warn' /var/log/syslog", "grep -E \"error|warn\" /var/log/syslog", "grep -i error /var/log/syslog", "grep -c . /var/log/syslog", "grep --color=auto error /var/log/syslog", "grep --col error /var/log/syslog", "grep -D rea x a.txt",
  "diff a.txt b.txt", "diff -u a.txt b.txt", "diff -N /home/alice /tmp/empty", "diff -r /home/alice /tmp/empty", "diff /home/alice /tmp/empty", "diff --context a.txt b.txt", "diff --context=3 a.txt b.txt", "diff -N /srv/app /tmp/empty", "diff -rq /var/log /var/log",
  "cat //proc/self/environ", "cat /proc/self/environ", "cat /proc/kmsg", "cat /etc/hostname", "cat /etc/os-release", "cat /proc/loadavg", "cat /var/log/syslog", "head -n 2 /var/log/syslog", "head -2 a.txt", "tail -n 1 /var/log/syslog", "tail -f /var/log/syslog", "tail -F a.txt", "tail --follow=name a.txt", "wc -l /var/log/syslog", "tac a.txt", "nl a.txt", "od -c a.txt",
  "du -sh /var/log/*", "du -sh /var/log", "ls -la /var/log/*", "ls -la /home", "ls /var/log/*.log", "cat /var/log/*.log", "tail -n 5 /var/log/nginx/*.log", "zcat -f /var/log/syslog", "zgrep error /var/log/syslog", "stat /var/log/syslog", "file /tmp/work/a.txt", "file -s /dev/zero", "file -b a.txt",
  "ps aux | grep bash", "dmesg | tail -n 5", "journalctl -n 5 --no-pager | grep -i error", "cat /var/log/syslog | sort | uniq -c | sort -rn | head -n 5", "df -h | grep /", "ls -la | wc -l", "grep error /var/log/syslog | cut -d: -f1 | sort | uniq -c",
  "df -h", "df -i", "free -h", "free -s 1", "free -c 3", "uptime", "uptime -p", "uname -a", "hostname", "hostname -f", "whoami", "id", "id root", "groups", "pwd", "nproc", "lscpu", "lsblk", "lsblk -f", "lsmod", "findmnt", "findmnt -p", "mount", "w", "who", "last -n 5", "lastlog",
  "vmstat", "vmstat 1 2", "vmstat 1", "dmesg", "dmesg -T", "dmesg -w", "dmesg -c", "ss -tlnp", "ss -s", "ss -K", "ss -E", "netstat -tlnp", "sysctl -a", "sysctl kernel.hostname", "sysctl -w kernel.hostname=x", "sysctl kernel.hostname=x",
  "pgrep -a bash", "pidof bash", "lsns", "timedatectl", "hostnamectl", "hostnamectl set-hostname x", "loginctl list-sessions", "md5sum a.txt", "sha256sum /var/log/syslog", "cksum a.txt", "cmp a.txt b.txt", "sort a.txt", "sort -o /tmp/out/x a.txt", "uniq a.txt", "uniq a.txt /tmp/work/out", "cut -c1-3 a.txt",
  "awk '{print $1}' a.txt", "awk -F: '{print $1}' /etc/passwd", "awk '{ n++ } END { print n }' /var/log/syslog", "awk -v x=1 '{print x, $0}' a.txt", "awk 'NR==1' /var/log/syslog",
  "awk '{print}' /etc/shadow", "awk 'BEGIN{system(\"id\")}'", "awk '{print > \"/tmp/out/x\"}' a.txt", "awk 'BEGIN{while((getline l < \"/etc/shadow\")>0) print l}'", "awk 'BEGIN{ARGV[1]=\"/etc/shadow\";ARGC=2}{print}' a.txt",
  "cat /var/log/syslog | awk '{print $5}' | sort | uniq -c",
  "realpath a.txt", "readlink -f a.txt", "basename /a/b", "dirname /a/b", "openssl version", "python3 --version", "bash --version", "git --version", "lsb_release -a", "getenforce", "dpkg -l bash", "apt-cache policy bash",
];
