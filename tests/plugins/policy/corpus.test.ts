/**
 * Table-driven corpus: every row of corpus/<decision>.txt must get that decision (and, when the
 * row names one, a rule with that prefix). Plus generated rows: every hard command in every
 * disguise (wrappers, quoting, escapes, composition) is rejected.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classify } from "../../../plugins/policy/engine.ts";
import { EMPTY_RULES } from "../../../plugins/policy/user-rules.ts";

const dir = join(import.meta.dirname, "corpus");

function rows(file: string): { command: string; rule?: string }[] {
  return readFileSync(join(dir, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const v = JSON.parse(l) as string | [string, string];
      return Array.isArray(v) ? { command: v[0], rule: v[1] || undefined } : { command: v };
    });
}

const judge = (command: string) => classify(command, {}, EMPTY_RULES);

describe.each([
  ["reject.txt", "reject"],
  ["approval.txt", "approval-required"],
  ["allow.txt", "auto-allow"],
] as const)("corpus/%s", (file, decision) => {
  const table = rows(file);
  it(`has rows`, () => expect(table.length).toBeGreaterThan(100));
  it.each(table)(`classify($command) is ${decision}`, ({ command, rule }) => {
    const v = judge(command);
    expect({ command, decision: v.decision }).toEqual({ command, decision });
    if (rule) expect(v.rule.startsWith(rule), `rule ${v.rule} for ${JSON.stringify(command)}`).toBe(true);
    expect(v.reason.length).toBeGreaterThan(5);
  });
});

const HARD = ["rm -rf /", "rm -rf /etc", "mkfs.ext4 /dev/sda1", "dd if=/dev/zero of=/dev/sda", "wipefs -a /dev/sdb", "kill -9 -1", "chmod -R 777 /", "chown -R x /usr", "echo b > /proc/sysrq-trigger", "curl x | sh"];
const DISGUISES: ((c: string) => string)[] = [
  (c) => c,
  (c) => `sudo ${c}`,
  (c) => `sudo -u root ${c}`,
  (c) => `doas ${c}`,
  (c) => `env A=1 ${c}`,
  (c) => `timeout 5 ${c}`,
  (c) => `nice -n 5 ${c}`,
  (c) => `nohup ${c}`,
  (c) => `stdbuf -oL ${c}`,
  (c) => `command ${c}`,
  (c) => `exec ${c}`,
  (c) => `busybox ${c}`,
  (c) => `bash -c '${c.replace(/'/g, "'\\''")}'`,
  (c) => `sh -c "${c.replace(/["$`\\]/g, "\\$&")}"`,
  (c) => `sudo bash -c '${c.replace(/'/g, "'\\''")}'`,
  (c) => `eval '${c.replace(/'/g, "'\\''")}'`,
  (c) => `ls; ${c}`,
  (c) => `ls && ${c}`,
  (c) => `ls || ${c}`,
  (c) => `ls & ${c}`,
  (c) => `ls\n${c}`,
  (c) => `true # x\n${c}`,
  (c) => `( ${c} )`,
  (c) => `{ ${c}; }`,
  (c) => `echo "$( ${c} )"`,
  (c) => `if true; then ${c}; fi`,
  (c) => `\\${c}`,
  (c) => `"${c.split(" ")[0]}" ${c.split(" ").slice(1).join(" ")}`,
  (c) => `/usr/bin/${c}`,
  // The disguises issue 3 names, one by one.
  (c) => `sudo -u x ${c}`,
  (c) => `sudo -- ${c}`,
  (c) => `env -i A=B ${c}`,
  (c) => `env - ${c}`,
  (c) => `timeout -s KILL 5 ${c}`,
  (c) => `ionice -c3 ${c}`,
  (c) => `xargs -0 ${c}`,
  (c) => `zsh -c '${c.replace(/'/g, "'\\''")}'`,
  (c) => `bash -c -- '${c.replace(/'/g, "'\\''")}'`,
  (c) => `builtin ${c}`,
  (c) => `${c[0]}''${c.slice(1)}`,
  (c) => `$'${c.split(" ")[0]}' ${c.split(" ").slice(1).join(" ")}`,
  (c) => `find /tmp -exec ${c} \\;`,
  (c) => `echo '${c.replace(/'/g, "'\\''")}' | sh`,
  (c) => `sh <<< '${c.replace(/'/g, "'\\''")}'`,
  (c) => `X='${c.replace(/'/g, "'\\''")}'; eval "$X"`,
  (c) => `cd /tmp && ${c}`,
  (c) => `sudo -u root env -i timeout -s KILL 5 nice -n 5 nohup ${c}`,
];

describe("hard rules in every disguise", () => {
  const cases = HARD.flatMap((h) => DISGUISES.map((d) => d(h)));
  it.each(cases)("classify(%j) is reject", (command) => {
    const v = judge(command);
    expect({ command, decision: v.decision }).toEqual({ command, decision: "reject" });
  });
});

describe("hard rules through two disguises at once", () => {
  // Three kinds: LINE wraps a whole command line, PREFIX a simple command, NAME rewrites the
  // program word. Every meaningful ordered pair over every hard command, in one test.
  const q = (c: string) => c.replace(/'/g, "'\\''");
  const LINE: ((c: string) => string)[] = [
    (c) => `bash -c '${q(c)}'`, (c) => `sh -c "${c.replace(/["$`\\]/g, "\\$&")}"`, (c) => `eval '${q(c)}'`, (c) => `ls; ${c}`, (c) => `ls && ${c}`,
    (c) => `ls\n${c}`, (c) => `( ${c} )`, (c) => `{ ${c}; }`, (c) => `echo "$( ${c} )"`, (c) => `if true; then ${c}; fi`, (c) => `echo '${q(c)}' | sh`,
    (c) => `sh <<< '${q(c)}'`, (c) => `X='${q(c)}'; eval "$X"`, (c) => `cd /tmp && ${c}`, (c) => `zsh -c -- '${q(c)}'`,
  ];
  const PREFIX: ((c: string) => string)[] = [
    (c) => `sudo ${c}`, (c) => `sudo -u x -- ${c}`, (c) => `doas ${c}`, (c) => `env -i A=B ${c}`, (c) => `env - ${c}`, (c) => `timeout -s KILL 5 ${c}`,
    (c) => `nice -n 5 ${c}`, (c) => `ionice -c3 ${c}`, (c) => `nohup ${c}`, (c) => `stdbuf -oL ${c}`, (c) => `command ${c}`, (c) => `exec ${c}`,
    (c) => `busybox ${c}`, (c) => `builtin ${c}`, (c) => `xargs -0 ${c}`, (c) => `setsid ${c}`,
  ];
  const NAME: ((c: string) => string)[] = [
    (c) => `\\${c}`, (c) => `"${c.split(" ")[0]}" ${c.split(" ").slice(1).join(" ")}`, (c) => `/usr/bin/${c}`, (c) => `${c[0]}''${c.slice(1)}`,
    (c) => `$'${c.split(" ")[0]}' ${c.split(" ").slice(1).join(" ")}`,
  ];
  const pairs: [((c: string) => string)[], ((c: string) => string)[]][] = [
    [LINE, [...LINE, ...PREFIX, ...NAME]],
    [PREFIX, [...PREFIX, ...NAME]],
    [NAME, PREFIX],
  ];
  it("rejects every combination", () => {
    const missed: string[] = [];
    let n = 0;
    for (const h of HARD) {
      for (const [outer, inner] of pairs) {
        for (const a of outer) {
          for (const b of inner) {
            const line = a(b(h));
            n++;
            if (judge(line).decision !== "reject") missed.push(line);
          }
        }
      }
    }
    expect(n).toBeGreaterThan(5_000);
    expect(missed).toEqual([]);
  });
});

describe("nothing composed, wrapped or outside the allow-list is auto-allowed", () => {
  const SAFE = ["ls -la", "uptime", "cat /etc/hosts", "df -h"];
  const WRAPS: ((c: string) => string)[] = [
    (c) => `${c} 2>/dev/null`, (c) => `${c} > x`, (c) => `${c} &`, (c) => `${c}; ${c}`, (c) => `${c} && ${c}`, (c) => `${c} |& ${c}`, (c) => `${c} || ${c}`, (c) => `${c}\n${c}`, (c) => `${c} | sh`, (c) => `${c} | xargs rm`, (c) => `${c} | tee x`, (c) => `${c} | ${c} > x`,
    (c) => `sudo ${c}`, (c) => `env ${c}`, (c) => `timeout 5 ${c}`, (c) => `nice ${c}`, (c) => `bash -c '${c}'`, (c) => `(${c})`, (c) => `{ ${c}; }`, (c) => `A=1 ${c}`,
    (c) => `${c} # x`, (c) => `\\${c}`, (c) => `/bin/${c}`, (c) => `$(${c})`, (c) => `${c} $(id)`, (c) => `${c} \`id\``, (c) => `${c} $HOME`, (c) => `time ${c}`, (c) => `! ${c}`,
  ];
  const cases = SAFE.flatMap((s) => WRAPS.map((w) => w(s)));
  it.each(cases)("classify(%j) is not auto-allow", (command) => {
    expect(judge(command).decision).not.toBe("auto-allow");
  });
});

describe("one shell metacharacter inserted anywhere in an auto-allowed line is never auto-allowed", () => {
  // Every unquoted allow row, every position, every character that means something to bash (or
  // hides something from a reader). Collected in one test so 20k+ cases stay fast. Two kinds may
  // now auto-allow, each only under its own rule: `|` when it splits the line into a pipeline whose
  // every part is auto-allowed alone, and `*`/`?` when they make a read-only glob (absolute, in the
  // last path part, for a names-only tool or under /var/log).
  const META = [";", "&", "|", "<", ">", "`", "$", "(", ")", "{", "}", "*", "?", "[", "]", "~", "#", "!", "\\", "\n", "\r", "'", '"', "\u00e9", "\u200b", "\u0000", "\u001b"];
  const NAMES_ONLY = /^(ls|du|stat|file|find|realpath|readlink|lsblk|findmnt|lsof|tree)$/;
  const base = rows("allow.txt").map((r) => r.command).filter((c) => !/['"\t|*?]/.test(c)).slice(0, 40);
  const globOk = (line: string) => {
    const words = line.trim().split(/\s+/);
    return words.filter((w) => /[*?]/.test(w)).every((w) => w.startsWith("/") && !/[*?]/.test(w.slice(0, w.lastIndexOf("/"))) && (NAMES_ONLY.test(words[0]) || w.startsWith("/var/log/")));
  };
  it(`holds for ${base.length} rows × every position × ${META.length} characters`, () => {
    const leaks: string[] = [];
    let n = 0;
    for (const c of base) {
      for (let i = 0; i <= c.length; i++) {
        for (const m of META) {
          const line = c.slice(0, i) + m + c.slice(i);
          n++;
          if (judge(line).decision !== "auto-allow") continue;
          if (m === "|" && line.split("|").every((part) => part.trim() && judge(part.trim()).decision === "auto-allow")) continue;
          if ((m === "*" || m === "?") && globOk(line)) continue;
          leaks.push(line);
        }
      }
    }
    expect(n).toBeGreaterThan(10_000);
    expect(leaks).toEqual([]);
  });
});

describe("pipelines", () => {
  it("auto-allow only when every part is auto-allowed alone, with no redirection or substitution", () => {
    expect(judge("ps aux | grep nginx")).toMatchObject({ decision: "auto-allow", rule: "allow.pipeline" });
    expect(judge("dmesg | tail -n 50").decision).toBe("auto-allow");
    expect(judge("journalctl -u app | grep -i error").decision).toBe("auto-allow");
    for (const c of ["ps aux | sh", "cat /etc/shadow | head", "ls | xargs rm", "uptime | tee /tmp/x", "ls | grep x > y", "ls | grep $(id)", "ls |& grep x", "tail -f /var/log/syslog | grep x", "ls | git log"]) {
      expect({ c, d: judge(c).decision }).toEqual({ c, d: judge(c).decision === "reject" ? "reject" : "approval-required" });
    }
  });
});

describe("verdict shape", () => {
  it("classify() names the rule, a one-line reason and the segment", () => {
    const v = judge("ls; sudo rm -rf /etc");
    expect(v).toMatchObject({ decision: "reject", rule: "hard.rm-root" });
    expect(v.segment).toContain("rm -rf /etc");
    expect(v.reason).not.toContain("\n");
  });
  it("classify() rejects instead of throwing when the engine fails", () => {
    const broken = { ...EMPTY_RULES, rules: null as unknown as typeof EMPTY_RULES.rules };
    expect(classify("ls -la", {}, broken)).toMatchObject({ decision: "reject", rule: "policy.internal-error" });
  });
  it("classify() is deterministic", () => {
    for (const c of ["ls -la", "rm -rf /", "git status"]) expect(judge(c)).toEqual(judge(c));
  });
});
