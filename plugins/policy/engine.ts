/**
 * The classifier: screen the text → parse → hard rules (every command, through wrappers and
 * nested scripts) → user deny → structure and allow-list → user ask → user allow. Precedence
 * reject > approval-required > auto-allow; default approval-required. Deterministic and pure.
 */
import type { Verdict } from "../../src/kernel/types.ts";
import { MIDDLEWARE } from "./allow-list.ts";
import { pathFinding } from "./paths.ts";
import { TOOL_NAMES, VERSION_ONLY, checkTool, normalArgv } from "./tools.ts";
import { checkArgv, checkRedirect, globRegex, isForkBombCode, type Hit } from "./hard-rules.ts";
import { codePoint, screen } from "./screen.ts";
import { analyze, baseName, type ShellFacts, type SimpleCmd } from "./shell.ts";
import { strictPipeline } from "./strict.ts";
import type { ClassifyOptions } from "./types.ts";
import { applicable, matchesPrefix, type UserRule, type UserRules } from "./user-rules.ts";
import { INTERPRETERS, SHELLS, codeStrings, findHasFilters, findStartPaths, programName, unwrap, wholeTree } from "./wrappers.ts";

const MAX_DEPTH = 8;
const DOWNLOADERS = new Set(["curl", "wget", "fetch", "aria2c", "http", "https", "lwp-request", "GET", "lynx", "links", "w3m", "nc", "ncat", "socat", "tftp", "scp", "rsync", "ftp"]);

interface Found {
  hit: Hit;
  segment: string;
}

export interface Engine {
  classify(command: string, options?: ClassifyOptions): Verdict;
}

/** Verdicts kept per engine (one line on 50 hosts, a workflow's steps on a fleet). */
const CACHE_MAX = 2000;

export function createEngine(rules: UserRules, env: EngineEnv = DEFAULT_ENV): Engine {
  // A verdict depends on the server and tier only through the user rules that apply to them: the
  // same line under the same applicable rules is judged once (a fan-out, a workflow's --dry-run).
  const cache = new Map<string, Verdict>();
  return {
    classify: (command, options = {}) => {
      const scoped = applicable(rules.rules, options.server, options.tier);
      const key = `${scoped.map((r) => rules.rules.indexOf(r)).join(",")}\0${command}`;
      let found = cache.get(key);
      if (!found) {
        found = classify(command, options, rules, env);
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(key, found);
      }
      return { ...found };
    },
  };
}

function verdict(decision: Verdict["decision"], rule: string, reason: string, segment?: string): Verdict {
  return segment === undefined ? { decision, rule, reason } : { decision, rule, reason, segment: segment.length > 200 ? segment.slice(0, 197) + "..." : segment };
}

export function classify(command: string, options: ClassifyOptions, rules: UserRules, env: EngineEnv = DEFAULT_ENV): Verdict {
  try {
    return judge(command, options, rules, env);
  } catch (error) {
    // A bug in the engine must never let a command through: fail closed, and say so.
    return verdict("reject", "policy.internal-error", `the policy engine failed on this line (${error instanceof Error ? error.message : String(error)}); it is rejected to be safe`);
  }
}

/** The reject every verdict becomes while a rule file is invalid; undefined when the rules are valid. */
export function invalidRulesVerdict(rules: UserRules): Verdict | undefined {
  return rules.invalid ? verdict("reject", "user.invalid-rules", `policy rules are invalid, so everything is denied: ${rules.invalid}`) : undefined;
}

function judge(command: string, options: ClassifyOptions, rules: UserRules, env: EngineEnv): Verdict {
  const invalid = invalidRulesVerdict(rules);
  if (invalid) return invalid;
  const screened = screen(command);
  if (screened) return verdict("reject", screened.rule, screened.reason, screened.segment);

  const facts = analyze(command);
  if (facts.errors.length) {
    const e = facts.errors[0];
    return verdict("reject", "parse.error", `bash would not parse this: ${e.message} at offset ${e.pos}`, command.slice(Math.max(0, e.pos - 10), e.pos + 10));
  }
  const lookalike = nonAsciiOutsideQuotes(command, facts);
  if (lookalike) return lookalike;

  // Hard rules, over every command in the line and everything it wraps.
  const hard = findHard(facts, 0);
  if (hard) return verdict("reject", hard.hit.rule, hard.hit.reason, hard.segment);

  const scoped = applicable(rules.rules, options.server, options.tier);
  const everyArgv = scoped.some((r) => r.kind !== "allow") ? allArgvs(facts, 0) : [];
  const deny = firstMatch(scoped, "deny", everyArgv);
  if (deny) return verdict("reject", deny.rule.id, `denied by your rule "${deny.rule.prefix.join(" ")}" (${deny.rule.at})`, deny.segment);

  const base = builtIn(command, facts, env);
  const ask = firstMatch(scoped, "ask", everyArgv);
  if (ask) return verdict("approval-required", ask.rule.id, `your rule "${ask.rule.prefix.join(" ")}" asks for approval (${ask.rule.at})`, ask.segment);
  if (base.verdict.decision !== "approval-required" || !base.single) return base.verdict;

  // A user allow lifts approval only for one plain command, and never past a secret path the
  // rule itself does not name.
  const argv = base.single;
  for (const rule of scoped) {
    if (rule.kind !== "allow" || !matchesPrefix(rule.prefix, argv, false)) continue;
    const secret = argv.slice(rule.prefix.length).find((w) => pathFinding(w.slice(w.indexOf("=") + 1), true) || pathFinding(w, true));
    if (secret) continue;
    return verdict("auto-allow", rule.id, `allowed by your rule "${rule.prefix.join(" ")}" (${rule.at})`, command.trim());
  }
  return base.verdict;
}

function nonAsciiOutsideQuotes(command: string, facts: ShellFacts): Verdict | undefined {
  for (let i = 0; i < command.length; i++) {
    if (command.charCodeAt(i) < 0x80) continue;
    if (facts.quoted.some(([a, b]) => i >= a && i < b)) continue;
    const ch = String.fromCodePoint(command.codePointAt(i)!);
    return verdict("reject", "input.non-ascii", `non-ASCII character ${codePoint(ch)} outside quotes (a lookalike can hide another command)`, command.slice(Math.max(0, i - 10), i + 10));
  }
  return undefined;
}

/** Every argv in the line, including those found through wrappers and nested scripts. */
function allArgvs(facts: ShellFacts, depth: number): { argv: string[]; segment: string }[] {
  const out: { argv: string[]; segment: string }[] = [];
  for (const cmd of facts.commands) {
    for (const argv of argvForms(cmd)) {
      let current: string[] | undefined = argv;
      for (let n = 0; current && current.length && n < MAX_DEPTH; n++) {
        out.push({ argv: current, segment: cmd.segment });
        const step = unwrap(current, cmd.stdinWords ?? producedPaths(cmd));
        if (!step) break;
        const fed = step.readsStdin && cmd.stdinText ? cmd.stdinText : [];
        if (depth < MAX_DEPTH) for (const s of [...step.scripts, ...fed]) out.push(...allArgvs(analyze(s, step.vars), depth + 1).map((x) => ({ ...x, segment: cmd.segment })));
        current = step.argv;
      }
    }
  }
  return out;
}

function firstMatch(rules: UserRule[], kind: "deny" | "ask", argvs: { argv: string[]; segment: string }[]): { rule: UserRule; segment: string } | undefined {
  for (const rule of rules) {
    if (rule.kind !== kind) continue;
    const normalPrefix = normalArgv(rule.prefix);
    const m = argvs.find((a) => matchesPrefix(rule.prefix, a.argv, true) || matchesPrefix(normalPrefix, normalArgv(a.argv), true));
    if (m) return { rule, segment: m.segment };
  }
  return undefined;
}

function findHard(facts: ShellFacts, depth: number): Found | undefined {
  if (depth > MAX_DEPTH) return { hit: { rule: "hard.nesting", reason: "commands nested too deeply to judge" }, segment: "" };
  if (facts.recursiveFunctions.length) {
    return { hit: { rule: "hard.fork-bomb", reason: `function ${JSON.stringify(facts.recursiveFunctions[0])} calls itself (fork bomb)` }, segment: facts.recursiveFunctions[0] };
  }
  for (const cmd of facts.commands) {
    const found = hardForCommand(cmd, depth);
    if (found) return found;
  }
  return undefined;
}

function hardForCommand(cmd: SimpleCmd, depth: number): Found | undefined {
  for (const r of cmd.redirects) {
    for (const t of r.target ? [r.target.literal ?? "", ...r.target.guesses] : []) {
      const hit = checkRedirect(r.op, t);
      if (hit) return { hit, segment: cmd.segment };
    }
  }
  const stdinWords = cmd.stdinWords ?? producedPaths(cmd);
  for (const start of startArgvs(cmd)) {
    let argv: string[] | undefined = start;
    const chain: string[] = [];
    for (let n = 0; argv && argv.length; n++) {
      if (n > MAX_DEPTH) return { hit: { rule: "hard.nesting", reason: "wrappers nested too deeply to judge" }, segment: cmd.segment };
      for (const script of cronScripts(cmd, argv)) {
        const found = findHard(analyze(script), depth + 1);
        if (found) return { hit: { ...found.hit, reason: `${found.hit.reason} (in a crontab line)` }, segment: cmd.segment };
      }
      for (const alt of programGlobs(argv)) {
        const hit = checkArgv(alt) ?? pipeToShell(cmd, alt) ?? substitutedDownload(cmd, alt) ?? downloadIntoShell(cmd, alt);
        if (hit) return { hit: chain.length ? { ...hit, reason: `${hit.reason} (through ${chain.join(", ")})` } : hit, segment: cmd.segment };
      }
      const step = unwrap(argv, stdinWords);
      if (!step) break;
      chain.push(step.wrapper);
      const forkBomb: Found = { hit: { rule: "hard.fork-bomb", reason: `${step.wrapper} code forks without end` }, segment: cmd.segment };
      if (step.cwd && step.argv) step.argv = underDir(step.argv, step.cwd);
      // `echo 'rm -rf /' | sh`, `bash <<< '…'`, `sh <<EOF … EOF`: what a shell reads on stdin is code.
      const fed = step.readsStdin && cmd.stdinText ? [...cmd.stdinText] : [];
      if (INTERPRETERS.has(step.wrapper) && cmd.stdinText) {
        for (const code of cmd.stdinText) if (isForkBombCode(code)) return forkBomb;
        fed.push(...codeStrings(cmd.stdinText));
      }
      for (const script of [...step.scripts, ...fed]) {
        if (INTERPRETERS.has(step.wrapper) && isForkBombCode(script)) return forkBomb;
        const inner = analyze(script, step.vars);
        const found = findHard(inner, depth + 1);
        if (found) return { hit: { ...found.hit, reason: `${found.hit.reason} (inside ${step.wrapper})` }, segment: cmd.segment };
      }
      if (INTERPRETERS.has(step.wrapper)) {
        for (const code of argv.slice(1)) if (isForkBombCode(code)) return forkBomb;
      }
      argv = step.argv;
    }
  }
  return undefined;
}

/** The literal words (when every word has one) and, if it differs, the guessed expansion. */
function argvForms(cmd: SimpleCmd): string[][] {
  const literal = cmd.words.every((w) => w.literal !== undefined) ? cmd.words.map((w) => w.literal!) : undefined;
  return literal && !sameWords(literal, cmd.argv) ? [literal, cmd.argv] : [cmd.argv];
}

function sameWords(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `echo '* * * * * rm -rf /' | crontab -`: the commands of the cron lines it installs. */
function cronScripts(cmd: SimpleCmd, argv: string[]): string[] {
  if (programName(argv[0] ?? "") !== "crontab" || !cmd.stdinText) return [];
  return cmd.stdinText.flatMap((t) => t.split("\n")).map((l) => l.trim()).filter((l) => l && !l.startsWith("#") && !/^[A-Za-z_]+=/.test(l)).map((l) => (l.startsWith("@") ? l.split(/\s+/).slice(1) : l.split(/\s+/).slice(5)).join(" "));
}

/**
 * The argv forms to judge: the literal words, the guessed expansion, and both resolved against a
 * directory an earlier `cd` in the line moved to (`cd / && rm -rf *`).
 */
function startArgvs(cmd: SimpleCmd): string[][] {
  const starts = argvForms(cmd);
  if (!cmd.cwd) return starts;
  const resolved: string[][] = [];
  for (const dir of cmd.cwd) {
    for (const argv of starts) resolved.push(underDir(argv, dir));
  }
  return [...starts, ...resolved];
}

/** `argv` with its words read as paths relative to `dir` (the program, options, absolute and ~ paths, words with blanks or `=` stay). */
function underDir(argv: string[], dir: string): string[] {
  return argv.map((w, i) => (i === 0 || w === "" || /^[-/~]/.test(w) || /[\s=]/.test(w) ? w : `${dir}/${w}`));
}

const GLOB_TARGETS = ["rm", "rmdir", "unlink", "dd", "mkfs", "mke2fs", "mkswap", "shred", "wipefs", "blkdiscard", "chmod", "chown", "chgrp", "kill", "killall5", "find", "tee", "cp", "mv", "sysctl", "sudo", "doas", "env", "xargs", "timeout", "nice", "nohup", "busybox", ...SHELLS, ...INTERPRETERS];

/** `/bin/r? -rf /`: a globbed program name is judged as every dangerous program it can match. */
function programGlobs(argv: string[]): string[][] {
  const name = baseName(argv[0] ?? "");
  if (!/[*?[]/.test(name)) return [argv];
  const re = globRegex(name);
  const names = GLOB_TARGETS.filter((t) => re.test(t));
  if (/^mkfs/.test(name) || re.test("mkfs.ext4")) names.push("mkfs.ext4");
  return [argv, ...names.map((n) => [n, ...argv.slice(1)])];
}

/** What `xargs` reads when an upstream `find` lists a whole tree: its start paths. */
function producedPaths(cmd: SimpleCmd): string[] | undefined {
  const producer = cmd.upstream[cmd.upstream.length - 1];
  if (!producer) return undefined;
  const argv = innermost(producer.argv);
  // `cd / && ls | xargs rm -rf`: ls prints names relative to where it runs; `ls -d /*` prints paths.
  if (programName(argv[0] ?? "") === "ls") {
    const operands = argv.slice(1).filter((a) => !a.startsWith("-"));
    if (argv.slice(1).some((a) => /^-[a-zA-Z]*d/.test(a)) && operands.length) return operands;
    if (operands.length === 0 && producer.cwd) return producer.cwd.map((c) => `${c}/*`);
    return undefined;
  }
  if (programName(argv[0] ?? "") !== "find") return undefined;
  const { paths, exprStart } = findStartPaths(argv);
  return findHasFilters(argv, exprStart) ? undefined : wholeTree(paths);
}

/** The program after looking through every wrapper. */
function innermost(argv: string[]): string[] {
  let current = argv;
  for (let n = 0; n < MAX_DEPTH; n++) {
    const step = unwrap(current);
    if (!step?.argv?.length) break;
    current = step.argv;
  }
  return current;
}

function isShellLike(argv: string[]): boolean {
  const name = programName(argv[0] ?? "");
  return SHELLS.has(name) || INTERPRETERS.has(name) || name === "source" || name === "." || name === "eval";
}

/**
 * A command that fetches from the network: a known downloader, or anything given a URL
 * (`python3 -c 'print(urlopen("https://…").read())'`, `php -r 'readfile("http://…");'`).
 */
function fetches(c: SimpleCmd): boolean {
  const name = programName(innermost(c.argv)[0] ?? "");
  return DOWNLOADERS.has(name) || (!/^(echo|printf)$/.test(name) && c.argv.some((w) => /\b(https?|ftps?|tftp):\/\//i.test(w)));
}

/** `curl … | sh`, `wget -O- … | sudo bash`: a downloader piped into a shell or interpreter. */
function pipeToShell(cmd: SimpleCmd, argv: string[]): Hit | undefined {
  if (cmd.upstream.length === 0 || !(argv[0] === "" || isShellLike(argv) || cmd.inner.length)) return undefined;
  const source = cmd.upstream.find(fetches);
  if (!source) return undefined;
  const from = programName(innermost(source.argv)[0]);
  // `curl … | $SHELL`: a program only known at run time may well be a shell.
  if (argv[0] === "") return { rule: "hard.pipe-to-shell", reason: `output of ${from} is piped into a program named by a variable: may run unreviewed code from the network` };
  if (isShellLike(argv)) return { rule: "hard.pipe-to-shell", reason: `output of ${from} is piped into ${programName(argv[0])}: runs unreviewed code from the network` };
  // `curl … | tee >(sh)`: a shell in a process substitution of the stage that gets the download.
  const sub = cmd.inner.find((c) => isShellLike(innermost(c.argv)));
  if (sub) return { rule: "hard.pipe-to-shell", reason: `output of ${from} reaches ${programName(innermost(sub.argv)[0])} through a process substitution: runs unreviewed code from the network` };
  return undefined;
}

/** `bash -c "$(curl …)"`, `sh <(wget …)`, `source <(curl …)`, `eval "$(curl …)"`. */
function substitutedDownload(cmd: SimpleCmd, argv: string[]): Hit | undefined {
  if (!isShellLike(argv)) return undefined;
  const dl = cmd.inner.find(fetches);
  if (!dl) return undefined;
  return { rule: "hard.pipe-to-shell", reason: `${programName(argv[0])} runs what ${programName(innermost(dl.argv)[0])} downloads: unreviewed code from the network` };
}

/** `curl x > >(sh)`, `wget -O >(bash) x`: a download written into a shell's process substitution. */
function downloadIntoShell(cmd: SimpleCmd, argv: string[]): Hit | undefined {
  if (!DOWNLOADERS.has(programName(argv[0] ?? "")) || cmd.inner.length === 0) return undefined;
  const sub = cmd.inner.find((c) => isShellLike(innermost(c.argv)));
  if (!sub) return undefined;
  return { rule: "hard.pipe-to-shell", reason: `${programName(argv[0])} writes its download into ${programName(innermost(sub.argv)[0])}: runs unreviewed code from the network` };
}

interface BuiltIn {
  verdict: Verdict;
  /** The argv when the line is exactly one plain command both recognizers agree on. */
  single?: string[];
}

/** Settings the engine reads besides the rules: the egress allow-list, and a trace for --explain. */
export interface EngineEnv {
  egress: readonly string[];
  /** When set, the engine appends the table entries and rules that decided. */
  trace?: string[];
}

export const DEFAULT_ENV: EngineEnv = { egress: [] };

const PRINT_ONLY_INTERPRETERS = new Set(["awk", "gawk", "mawk"]);

/** A word that is a bare glob (`/var/log/*`): unquoted, only safe characters plus `*` and `?`. */
const GLOB_WORD = /^[A-Za-z0-9_./:=,@%+*?-]+$/;

/** The built-in judgement without user rules: auto-allow or approval-required (hard rules ran before). */
function builtIn(command: string, facts: ShellFacts, env: EngineEnv): BuiltIn {
  const approval = (rule: string, reason: string, segment?: string, single?: string[]): BuiltIn => ({ verdict: verdict("approval-required", rule, reason, segment ?? command.trim()), single });
  const structure = composedReason(command, facts);
  if (structure) return approval(structure.rule, structure.reason);
  const stages: { argv: string[]; globs: Set<number>; segment: string }[] = [];
  for (const cmd of facts.commands) {
    const globs = new Set<number>();
    for (let i = 0; i < cmd.words.length; i++) {
      const w = cmd.words[i];
      if (w.plain && w.literal !== undefined) continue;
      if (i > 0 && /[*?]/.test(w.text) && GLOB_WORD.test(w.text)) {
        globs.add(i - 1);
        continue;
      }
      return approval("approval.expansion", `word ${JSON.stringify(w.text)} is not a plain literal (expansion, glob, escape or tilde)`, w.text);
    }
    stages.push({ argv: cmd.words.map((w) => w.literal ?? w.text), globs, segment: cmd.segment });
  }
  const strict = strictPipeline(command);
  if (!strict || strict.length !== stages.length || strict.some((st, k) => st.argv.length !== stages[k].argv.length || st.argv.some((w, i) => w !== stages[k].argv[i]) || st.globs.size !== stages[k].globs.size || [...st.globs].some((g) => !stages[k].globs.has(g - 1)))) {
    return approval("approval.strict-mismatch", "the strict recognizer does not accept this line the same way, so it is not auto-allowed");
  }
  if (stages.length === 1) return judgeStage(stages[0].argv, stages[0].globs, command.trim(), env);
  const names: string[] = [];
  for (const st of stages) {
    const one = judgeStage(st.argv, st.globs, st.segment, env);
    if (one.verdict.decision !== "auto-allow") return { verdict: { ...one.verdict, reason: `${one.verdict.reason} (in a pipeline: every part must be auto-allowed)` } };
    names.push(st.argv[0]);
  }
  env.trace?.push(`pipeline: every part is auto-allowed (${names.join(" | ")}), no redirection or substitution`);
  return { verdict: verdict("auto-allow", "allow.pipeline", `a pipeline of inspection commands (${names.join(" | ")}), each auto-allowed`, command.trim()) };
}

/** One plain command of literal words (globs flagged): allow-listed with accepted options, or why not. */
function judgeStage(argv: string[], globs: Set<number>, segment: string, env: EngineEnv): BuiltIn {
  const approval = (rule: string, reason: string, seg?: string): BuiltIn => ({ verdict: verdict("approval-required", rule, reason, seg ?? segment), single: globs.size ? undefined : argv });
  const name = argv[0];
  if (name.includes("/")) return approval("approval.path-program", `program given as a path (${name}); only bare allow-listed names are auto-allowed`, name);
  if (Object.hasOwn(VERSION_ONLY, name) && argv.length === 2 && VERSION_ONLY[name].test(argv[1]) && globs.size === 0) {
    env.trace?.push(`${name} ${argv[1]}: a version query only`);
    return { verdict: verdict("auto-allow", `allow.version`, `${name} ${argv[1]} only prints its version`, segment), single: argv };
  }
  if (MIDDLEWARE.has(name)) return approval("approval.middleware", `${name} talks to a service that can change state; allow read-only verbs in policy.yaml if you want them`, name);
  // awk runs code, but a program that can only print is an inspection tool (tools.ts checkAwk).
  if (!PRINT_ONLY_INTERPRETERS.has(name) && (unwrap(argv) !== undefined || SHELLS.has(name))) return approval("approval.wrapper", `${name} runs other commands or code`, name);
  if (!TOOL_NAMES.has(name)) return approval("default", `${name} is not on the allow-list of inspection commands`, name);
  const result = checkTool(name, argv.slice(1), { egress: env.egress }, new Set([...globs].map((g) => g)));
  if (result.finding) {
    env.trace?.push(...result.explain);
    if (result.finding.entry) env.trace?.push(`decided by: ${result.finding.entry}`);
    return approval(result.finding.rule, result.finding.reason);
  }
  env.trace?.push(...result.explain);
  return { verdict: verdict("auto-allow", `allow.${name}`, `${name} with these options only reads`, segment), single: globs.size ? undefined : argv };
}

function composedReason(command: string, facts: ShellFacts): { rule: string; reason: string } | undefined {
  const f = facts.features;
  if (/[\n\r]/.test(command)) return { rule: "approval.composed", reason: "the line has more than one line" };
  if (facts.statements.length !== 1) return { rule: "approval.composed", reason: `the line has ${facts.statements.length} commands` };
  if (f.has("background")) return { rule: "approval.composed", reason: "runs a command in the background (&)" };
  if (f.has("list")) return { rule: "approval.composed", reason: "chained commands (&&, ||)" };
  if (f.has("substitution")) return { rule: "approval.expansion", reason: "command or process substitution runs another command" };
  if (f.has("function") || f.has("compound") || f.has("pipeline-prefix")) return { rule: "approval.composed", reason: "compound command, function or pipeline prefix" };
  if (f.has("redirect")) return { rule: "approval.redirect", reason: "redirections can write files (even 2>/dev/null is not auto-allowed)" };
  if (f.has("assignment")) return { rule: "approval.expansion", reason: "variable assignments change how a program runs" };
  if (facts.commands.length !== 1 && !f.has("pipeline")) return { rule: "approval.composed", reason: "more than one command" };
  if (facts.commands.some((c) => c.depth !== 0 || c.inner.length)) return { rule: "approval.composed", reason: "nested commands" };
  const st = facts.statements[0];
  if (command.slice(0, st.pos).trim() !== "" || command.slice(st.end).trim() !== "") return { rule: "approval.composed", reason: "text outside the command (separator or comment)" };
  if (/[#;&<>`$\\]|\|\|/.test(unquoted(command))) return { rule: "approval.composed", reason: "shell metacharacters outside quotes" };
  return undefined;
}

/** The line with the bodies of '…' and "…" blanked out (the strict recognizer vets those bodies). */
function unquoted(command: string): string {
  let out = "";
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === "'" || c === '"') {
      const close = command.indexOf(c, i + 1);
      if (close < 0) return command;
      out += c + c;
      i = close;
    } else out += c;
  }
  return out;
}

/** Interactive sessions: approval-required unless a user rule says `session: allow` (or deny). */
export function sessionVerdict(rules: UserRules, options: ClassifyOptions, interactive = false): Verdict {
  const invalid = invalidRulesVerdict(rules);
  if (invalid) return invalid;
  const scoped = applicable(rules.session, options.server, options.tier);
  const deny = scoped.find((s) => s.mode === "deny");
  if (deny) return verdict("reject", deny.id, `sessions are denied by your rule (${deny.at})`);
  const ask = scoped.find((s) => s.mode === "ask");
  if (ask) return verdict("approval-required", ask.id, `sessions need approval by your rule (${ask.at})`);
  const allow = scoped.find((s) => s.mode === "allow");
  if (allow) return verdict("auto-allow", allow.id, `sessions are allowed by your rule (${allow.at})`);
  // At a terminal the person types every command of the session themselves; without one, the
  // session's commands come from a pipe or a program, which is remote execution in disguise.
  if (interactive) return verdict("auto-allow", "policy.session-terminal", "you open it at your terminal and type every command yourself");
  return verdict("approval-required", "policy.session", "stdin is not a terminal, so the session runs whatever a pipe or program feeds it; it needs approval");
}
