/**
 * Reads workflows: the original OpsTerm `workflows.yaml` (many workflows under `workflows:`) and
 * `workflows/NAME.yaml` (one per file), globally and in a trusted workspace. Validation is strict
 * and points at file:line:col: a malformed file is a DataError (65), a reference to a server or a
 * variable that does not exist a ConfigError (78). Nothing here connects anywhere.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, DataError, stateFiles, UsageError, type Paths } from "../../src/kernel/index.ts";
import { parseDuration } from "../../src/lib/args.ts";
import { closest } from "../../src/lib/schema.ts";
import { locate, readYamlFile, type YamlFile } from "../../src/lib/yaml-file.ts";
import { templateRefs, whenRefs } from "./template.ts";
import type { StepAction, StepDef, VarDef, WorkflowDef, WorkflowSource } from "./types.ts";

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Workflow files read from one folder at most (a folder of thousands is not hand-written). */
const MAX_FILES = 500;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const HINT = "See \"opsterm help workflows\" for both formats";

const WORKFLOW_KEYS = ["desc", "vars", "targets", "parallel", "notify", "timeout", "steps"];
const ACTION_KEYS = ["ssh", "exec", "local", "put", "get", "scp", "confirm", "wait"] as const;
const MODIFIER_KEYS = ["name", "desc", "targets", "when", "retries", "backoff", "timeout", "on_error", "always", "parallel"];
const ORIGINAL_KEYS = ["ssh", "command", "scp", "to", "confirm", "wait", ...MODIFIER_KEYS];

interface Issue {
  at: string;
  message: string;
}

/** Collects problems of one file; `fail()` throws them all at once. */
class Checker {
  issues: Issue[] = [];
  readonly file: YamlFile;
  constructor(file: YamlFile) {
    this.file = file;
  }
  add(path: (string | number)[], message: string, atKey = false): void {
    this.issues.push({ at: locate(this.file, path, atKey), message });
  }
  at(path: (string | number)[], atKey = false): string {
    return locate(this.file, path, atKey);
  }
}

export function invalid(issues: Issue[]): DataError {
  return new DataError("E_WORKFLOW_INVALID", issues.map((i) => `${i.at}: ${i.message}`).join("\n"), { hint: HINT });
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const scalarText = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);

function unknownKey(c: Checker, path: (string | number)[], key: string, known: readonly string[]): void {
  const guess = closest(key, [...known]);
  c.add([...path, key], `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}`, true);
}

function durationMs(c: Checker, path: (string | number)[], value: unknown, what: string): number | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return Math.round(value * 1000);
  if (typeof value === "string") {
    try {
      const ms = parseDuration(value, { defaultUnit: "s" });
      if (ms > 0) return ms;
    } catch {
      // reported below
    }
  }
  c.add(path, `${what} must be a positive number of seconds or a duration such as 90s, 5m, got ${JSON.stringify(value)}`);
  return undefined;
}

function positiveInt(c: Checker, path: (string | number)[], value: unknown, what: string, min = 1): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= 10_000) return value;
  c.add(path, `${what} must be a whole number from ${min}, got ${JSON.stringify(value)}`);
  return undefined;
}

function str(c: Checker, path: (string | number)[], value: unknown, what: string): string | undefined {
  if (typeof value === "string" && value.trim() !== "" && !value.includes("\0")) return value;
  if (typeof value === "number") return String(value);
  c.add(path, `${what} must be a non-empty string, got ${JSON.stringify(value ?? null)}`);
  return undefined;
}

function targetSpec(c: Checker, path: (string | number)[], value: unknown): string | undefined {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v.trim() !== "")) return (value as string[]).join(",");
  if (typeof value === "string" && value.trim() !== "") return value;
  c.add(path, `targets must be a server id, a list, a glob ("web*") or a tag ("@prod"), got ${JSON.stringify(value ?? null)}`);
  return undefined;
}

function parseVars(c: Checker, path: (string | number)[], value: unknown): Record<string, VarDef> {
  const vars: Record<string, VarDef> = {};
  if (value === undefined || value === null) return vars;
  if (!isMap(value)) {
    c.add(path, "vars must be a mapping of names to default values");
    return vars;
  }
  for (const [name, def] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      c.add([...path, name], `invalid variable name "${name}": use letters, digits and "_"`, true);
      continue;
    }
    if (def === null) vars[name] = {};
    else if (scalarText(def) !== undefined) vars[name] = { default: scalarText(def) };
    else if (isMap(def)) {
      for (const k of Object.keys(def)) if (k !== "default" && k !== "desc") unknownKey(c, [...path, name], k, ["default", "desc"]);
      const d = def.default;
      if (d !== undefined && d !== null && scalarText(d) === undefined) c.add([...path, name, "default"], "a default must be a string, number or boolean");
      vars[name] = { default: d === undefined || d === null ? undefined : scalarText(d), desc: typeof def.desc === "string" ? def.desc : undefined };
    } else c.add([...path, name], "a variable is a default value, nothing (required), or {default, desc}");
  }
  return vars;
}

function parseAction(c: Checker, path: (string | number)[], key: (typeof ACTION_KEYS)[number], value: unknown): StepAction | undefined {
  const p = [...path, key];
  switch (key) {
    case "ssh":
    case "exec": {
      const command = str(c, p, value, `${key} (the command)`);
      return command === undefined ? undefined : { type: "exec", command };
    }
    case "local": {
      const command = str(c, p, value, "local (the command)");
      return command === undefined ? undefined : { type: "local", command };
    }
    case "put":
    case "scp": {
      if (!isMap(value)) {
        c.add(p, `${key} must be a mapping: {src: ./local/file, dest: /remote/path}`);
        return undefined;
      }
      const known = key === "put" ? ["src", "dest", "mode"] : ["src", "dest", "mode", "recursive"];
      for (const k of Object.keys(value)) if (!known.includes(k)) unknownKey(c, p, k, known);
      const src = str(c, [...p, "src"], value.src, `${key}.src`);
      const dest = str(c, [...p, "dest"], value.dest, `${key}.dest`);
      let mode: number | undefined;
      if (value.mode !== undefined) {
        const text = String(value.mode);
        if (!/^0?[0-7]{3,4}$/.test(text)) c.add([...p, "mode"], `mode must be octal such as "0644", got ${JSON.stringify(value.mode)}`);
        else mode = parseInt(typeof value.mode === "number" ? value.mode.toString(10) : text, 8);
      }
      if (value.recursive !== undefined && typeof value.recursive !== "boolean") c.add([...p, "recursive"], "recursive must be true or false");
      return src && dest ? { type: "put", src, dest, mode, recursive: value.recursive === true } : undefined;
    }
    case "get": {
      if (!isMap(value)) {
        c.add(p, "get must be a mapping: {src: /remote/path, dest: ./local/file}");
        return undefined;
      }
      for (const k of Object.keys(value)) if (k !== "src" && k !== "dest") unknownKey(c, p, k, ["src", "dest"]);
      const src = str(c, [...p, "src"], value.src, "get.src");
      const dest = str(c, [...p, "dest"], value.dest, "get.dest");
      return src && dest ? { type: "get", src, dest } : undefined;
    }
    case "confirm": {
      const message = str(c, p, value, "confirm (the question)");
      return message === undefined ? undefined : { type: "confirm", message };
    }
    case "wait": {
      if (typeof value === "number" || typeof value === "string") {
        const ms = durationMs(c, p, value, "wait");
        return ms === undefined ? undefined : { type: "wait", seconds: ms / 1000, local: true, timeoutMs: ms, intervalMs: ms };
      }
      if (!isMap(value)) {
        c.add(p, "wait is a number of seconds, or {until: <command>, timeout, interval}");
        return undefined;
      }
      const known = ["seconds", "until", "timeout", "interval", "local"];
      for (const k of Object.keys(value)) if (!known.includes(k)) unknownKey(c, p, k, known);
      if (value.seconds !== undefined) {
        if (value.until !== undefined) c.add([...p, "until"], "wait takes seconds or until, not both");
        const ms = durationMs(c, [...p, "seconds"], value.seconds, "wait.seconds");
        return ms === undefined ? undefined : { type: "wait", seconds: ms / 1000, local: true, timeoutMs: ms, intervalMs: ms };
      }
      const until = str(c, [...p, "until"], value.until, "wait.until (a command that succeeds when ready)");
      const timeoutMs = value.timeout === undefined ? 5 * 60_000 : durationMs(c, [...p, "timeout"], value.timeout, "wait.timeout");
      const intervalMs = value.interval === undefined ? 5_000 : durationMs(c, [...p, "interval"], value.interval, "wait.interval");
      if (value.local !== undefined && typeof value.local !== "boolean") c.add([...p, "local"], "local must be true or false");
      return until && timeoutMs && intervalMs ? { type: "wait", until, local: value.local === true, timeoutMs, intervalMs } : undefined;
    }
  }
}

interface Defaults {
  timeoutMs: number;
}

function parseModifiers(c: Checker, path: (string | number)[], raw: Record<string, unknown>, index: number, action: StepAction, defaults: Defaults): StepDef | undefined {
  const name = raw.name ?? raw.desc;
  const step: StepDef = {
    index,
    name: typeof name === "string" && name.trim() ? name.trim() : describeAction(action),
    action,
    retries: 0,
    backoffMs: 1000,
    timeoutMs: defaults.timeoutMs,
    onError: "stop",
    always: false,
    at: c.at(path),
  };
  if (name !== undefined && typeof name !== "string") c.add([...path, raw.name !== undefined ? "name" : "desc"], "name must be a string");
  if (raw.targets !== undefined) step.targets = targetSpec(c, [...path, "targets"], raw.targets);
  if (raw.when !== undefined) step.when = str(c, [...path, "when"], raw.when, "when");
  if (raw.retries !== undefined) step.retries = positiveInt(c, [...path, "retries"], raw.retries, "retries", 0) ?? 0;
  if (raw.backoff !== undefined) step.backoffMs = durationMs(c, [...path, "backoff"], raw.backoff, "backoff") ?? 1000;
  if (raw.timeout !== undefined) step.timeoutMs = durationMs(c, [...path, "timeout"], raw.timeout, "timeout") ?? defaults.timeoutMs;
  if (raw.on_error !== undefined) {
    if (raw.on_error === "stop" || raw.on_error === "continue") step.onError = raw.on_error;
    else c.add([...path, "on_error"], `on_error must be "stop" or "continue", got ${JSON.stringify(raw.on_error)}`);
  }
  if (raw.always !== undefined) {
    if (typeof raw.always === "boolean") step.always = raw.always;
    else c.add([...path, "always"], "always must be true or false");
  }
  if (raw.parallel !== undefined) step.parallel = positiveInt(c, [...path, "parallel"], raw.parallel, "parallel");
  return step;
}

export function describeAction(a: StepAction): string {
  switch (a.type) {
    case "exec":
    case "local":
      return a.command.length > 60 ? a.command.slice(0, 57) + "..." : a.command;
    case "put":
      return `upload ${a.src} → ${a.dest}`;
    case "get":
      return `download ${a.src} → ${a.dest}`;
    case "confirm":
      return a.message;
    case "wait":
      return a.until ? `wait until ${a.until}` : `wait ${a.seconds} s`;
  }
}

/** A step of the original format: `ssh`+`command`, `command` alone, `scp`+`to`+`ssh`, with `confirm: true`, `wait: N`. */
function parseOriginalStep(c: Checker, path: (string | number)[], raw: Record<string, unknown>, index: number, defaults: Defaults): StepDef | undefined {
  for (const k of Object.keys(raw)) if (!ORIGINAL_KEYS.includes(k)) unknownKey(c, path, k, ORIGINAL_KEYS);
  let action: StepAction | undefined;
  let targets: string | undefined;
  if (raw.scp !== undefined) {
    if (raw.command !== undefined) c.add([...path, "command"], "a step has one action: scp (an upload) or command, not both");
    const src = str(c, [...path, "scp"], raw.scp, "scp (the local file)");
    const dest = str(c, [...path, "to"], raw.to, "to (the remote path)");
    if (raw.ssh === undefined) c.add(path, 'an scp step needs "ssh: <server>" to say where the file goes');
    else targets = targetSpec(c, [...path, "ssh"], raw.ssh);
    if (src && dest) action = { type: "put", src, dest, recursive: false };
  } else {
    if (raw.to !== undefined) c.add([...path, "to"], '"to" belongs to an scp step');
    const command = str(c, [...path, "command"], raw.command, "command");
    if (raw.ssh !== undefined) {
      targets = targetSpec(c, [...path, "ssh"], raw.ssh);
      if (command) action = { type: "exec", command };
    } else if (command) action = { type: "local", command };
  }
  if (!action) return undefined;
  const { ssh: _s, command: _c, scp: _p, to: _t, confirm, wait, ...modifiers } = raw;
  const step = parseModifiers(c, path, modifiers, index, action, defaults);
  if (!step) return undefined;
  if (targets !== undefined) step.targets = step.targets ?? targets;
  if (confirm !== undefined) {
    if (confirm === true) step.confirm = `Run step ${index + 1} (${step.name})?`;
    else if (typeof confirm === "string" && confirm.trim()) step.confirm = confirm;
    else if (confirm !== false) c.add([...path, "confirm"], "confirm must be true, false or a question");
  }
  if (wait !== undefined) step.waitAfterMs = durationMs(c, [...path, "wait"], wait, "wait");
  return step;
}

function parseRichStep(c: Checker, path: (string | number)[], raw: Record<string, unknown>, index: number, defaults: Defaults): StepDef | undefined {
  const known = [...ACTION_KEYS, ...MODIFIER_KEYS];
  for (const k of Object.keys(raw)) if (!known.includes(k)) unknownKey(c, path, k, known);
  // `confirm: true` next to an action asks before it (as in the original format); a question alone is a confirm step.
  const asks = raw.confirm === true || raw.confirm === false;
  const actions = ACTION_KEYS.filter((k) => raw[k] !== undefined && !(k === "confirm" && asks));
  if (actions.length === 0) {
    c.add(path, `a step needs one action: ${ACTION_KEYS.join(", ")}`);
    return undefined;
  }
  if (actions.length > 1) {
    c.add([...path, actions[1]], `a step has exactly one action, this one has ${actions.join(" and ")}`, true);
    return undefined;
  }
  const action = parseAction(c, path, actions[0], raw[actions[0]]);
  if (!action) return undefined;
  const step = parseModifiers(c, path, raw, index, action, defaults);
  if (step && raw.confirm === true) step.confirm = `Run step ${index + 1} (${step.name})?`;
  if (step && asks && action.type === "confirm") c.add([...path, "confirm"], "confirm: true goes next to another action");
  return step;
}

function parseWorkflow(c: Checker, path: (string | number)[], name: string, raw: unknown, source: WorkflowSource, baseDir: string | undefined): WorkflowDef | undefined {
  if (!isMap(raw)) {
    c.add(path, `workflow "${name}" must be a mapping with "steps:"`);
    return undefined;
  }
  for (const k of Object.keys(raw)) if (!WORKFLOW_KEYS.includes(k)) unknownKey(c, path, k, WORKFLOW_KEYS);
  const wf: WorkflowDef = { name, source, baseDir, vars: parseVars(c, [...path, "vars"], raw.vars), steps: [], at: c.at(path, source.format === "original") };
  if (raw.desc !== undefined) wf.desc = typeof raw.desc === "string" ? raw.desc : (c.add([...path, "desc"], "desc must be a string"), undefined);
  if (raw.targets !== undefined) wf.targets = targetSpec(c, [...path, "targets"], raw.targets);
  if (raw.parallel !== undefined) wf.parallel = positiveInt(c, [...path, "parallel"], raw.parallel, "parallel");
  if (raw.notify !== undefined) {
    const url = str(c, [...path, "notify"], raw.notify, "notify (a URL)");
    if (url && !/^https?:\/\/[^\s]+$/.test(url)) c.add([...path, "notify"], `notify must be an http(s) URL, got ${JSON.stringify(url)}`);
    else wf.notify = url;
  }
  const defaults: Defaults = { timeoutMs: raw.timeout === undefined ? DEFAULT_TIMEOUT_MS : (durationMs(c, [...path, "timeout"], raw.timeout, "timeout") ?? DEFAULT_TIMEOUT_MS) };
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    c.add(raw.steps === undefined ? path : [...path, "steps"], `workflow "${name}" needs a non-empty list of steps`);
    return wf;
  }
  raw.steps.forEach((s: unknown, i: number) => {
    const p = [...path, "steps", i];
    if (!isMap(s)) return c.add(p, "a step must be a mapping");
    // In workflows.yaml, a step with `command:` or `scp:` is in the original form.
    const original = source.format === "original" && (s.command !== undefined || s.scp !== undefined);
    const step = original ? parseOriginalStep(c, p, s, i, defaults) : parseRichStep(c, p, s, i, defaults);
    if (!step) return;
    const remote = step.action.type === "exec" || step.action.type === "put" || step.action.type === "get" || (step.action.type === "wait" && step.action.until !== undefined && !step.action.local);
    if (remote && !step.targets && !wf.targets) c.add(p, `step ${i + 1} runs on servers, but neither it nor the workflow names targets`);
    if (!remote && step.targets !== undefined && step.action.type !== "wait") c.add([...p, "targets"], `a ${step.action.type} step runs on this machine: targets do not apply`, true);
    wf.steps.push(step);
  });
  return wf;
}

export interface WorkflowSet {
  workflows: Map<string, WorkflowDef>;
  /** Problems with other workflows, when one was asked for by name (they do not stop it). */
  files: string[];
}

type FileRef = { scope: "global" | "workspace"; path: string; pinned?: string | null };

/** Where the files are: workflows.yaml and workflows/*.yaml, globally then in the trusted workspace. */
function workflowFiles(paths: Paths, only?: string): { originals: FileRef[]; singles: (FileRef & { name: string })[] } {
  const originals = stateFiles(paths, "workflows.yaml");
  const singles: (FileRef & { name: string })[] = [];
  const names = new Set<string>();
  if (only !== undefined) names.add(only);
  else {
    for (const name of listYaml(join(paths.configDir, "workflows"))) names.add(name);
    const ws = paths.workspace?.state();
    if (ws?.status === "trusted") {
      for (const f of Object.keys(ws.files ?? {})) {
        const m = /^workflows\/([^/]+)\.ya?ml$/.exec(f);
        if (m) names.add(m[1]);
      }
    }
  }
  for (const name of [...names].sort()) {
    if (!NAME.test(name)) continue;
    for (const ext of ["yaml", "yml"]) for (const f of stateFiles(paths, `workflows/${name}.${ext}`)) singles.push({ ...f, name });
  }
  return { originals, singles };
}

function listYaml(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found = names.filter((n) => /\.ya?ml$/.test(n)).map((n) => n.replace(/\.ya?ml$/, ""));
  if (found.length > MAX_FILES) throw new DataError("E_WORKFLOW_INVALID", `${dir} holds ${found.length} workflow files, more than ${MAX_FILES}`, { hint: "Move the files that are not workflows out of it" });
  return found;
}


/**
 * Every workflow (or just `only`), validated. A name defined twice in one scope is an error; a
 * workspace workflow replaces a global one of the same name.
 */
export async function loadWorkflows(paths: Paths, only?: string): Promise<Map<string, WorkflowDef>> {
  if (only !== undefined && !NAME.test(only)) throw new UsageError(`"${only}" is not a workflow name`, { code: "E_WORKFLOW_UNKNOWN", hint: '"opsterm workflow list" shows the names' });
  const { originals, singles } = workflowFiles(paths, only);
  const issues: Issue[] = [];
  const byScope: Record<"global" | "workspace", Map<string, WorkflowDef>> = { global: new Map(), workspace: new Map() };
  const add = (wf: WorkflowDef) => {
    const seen = byScope[wf.source.scope].get(wf.name);
    if (seen) issues.push({ at: wf.at, message: `workflow "${wf.name}" is also defined at ${seen.at}` });
    else byScope[wf.source.scope].set(wf.name, wf);
  };
  for (const ref of originals) {
    const file = await readYamlFile(ref.path, DataError, { pinned: ref.pinned });
    if (!file) continue;
    const c = new Checker(file);
    const data = file.data;
    if (!isMap(data) || (data.workflows !== undefined && data.workflows !== null && !isMap(data.workflows) && !Array.isArray(data.workflows))) {
      c.add(isMap(data) ? ["workflows"] : [], 'expected a "workflows:" key holding workflows by name (or a list of them, each with "name:")');
    } else {
      for (const k of Object.keys(data)) if (k !== "workflows") unknownKey(c, [], k, ["workflows"]);
      // The original's documentation also shows a list: `workflows: [{name: deploy-app, steps: …}]`.
      const entries: [string, unknown, (string | number)[]][] = Array.isArray(data.workflows)
        ? data.workflows.map((item: unknown, i: number) => {
            const named = isMap(item) && typeof item.name === "string" ? item.name : "";
            if (!named) c.add(["workflows", i], 'a workflow in a list needs "name:"');
            const { name: _n, ...rest } = isMap(item) ? item : {};
            return [named, rest, ["workflows", i]] as [string, unknown, (string | number)[]];
          })
        : Object.entries((data.workflows ?? {}) as Record<string, unknown>).map(([name, raw]) => [name, raw, ["workflows", name]] as [string, unknown, (string | number)[]]);
      for (const [name, raw, path] of entries) {
        if (!name) continue;
        if (!NAME.test(name)) {
          c.add(Array.isArray(data.workflows) ? [...path, "name"] : path, `invalid workflow name "${name}": use letters, digits, "_", ".", "-"`, !Array.isArray(data.workflows));
          continue;
        }
        if (only !== undefined && name !== only) continue;
        const wf = parseWorkflow(c, path, name, raw, { scope: ref.scope, path: ref.path, format: "original" }, ref.scope === "workspace" ? dirname(dirname(ref.path)) : undefined);
        if (wf) add(wf);
      }
    }
    issues.push(...c.issues);
  }
  for (const ref of singles) {
    const file = await readYamlFile(ref.path, DataError, { pinned: ref.pinned });
    if (!file) continue;
    const c = new Checker(file);
    const wf = parseWorkflow(c, [], ref.name, file.data, { scope: ref.scope, path: ref.path, format: "file" }, ref.scope === "workspace" ? dirname(dirname(dirname(ref.path))) : undefined);
    if (wf) add(wf);
    issues.push(...c.issues);
  }
  if (issues.length) throw invalid(issues);
  const merged = new Map(byScope.global);
  for (const [name, wf] of byScope.workspace) merged.set(name, wf);
  return new Map([...merged].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function loadWorkflow(paths: Paths, name: string): Promise<WorkflowDef> {
  const found = (await loadWorkflows(paths, name)).get(name);
  if (found) return found;
  let all: string[] = [];
  try {
    all = [...(await loadWorkflows(paths)).keys()];
  } catch {
    // another file is broken: the name is still unknown
  }
  const guess = closest(name, all);
  throw new UsageError(`No workflow named "${name}"${guess ? `, did you mean "${guess}"?` : ""}`, {
    code: "E_WORKFLOW_UNKNOWN",
    hint: all.length ? `Workflows: ${all.slice(0, 10).join(", ")}` : `Write one in ${join(paths.configDir, "workflows.yaml")} or ${join(paths.configDir, "workflows", `${name}.yaml`)} ("opsterm help workflows")`,
  });
}

/** The variables a run uses: defaults, overridden by --var; every one must end up with a value. */
export function resolveVars(wf: WorkflowDef, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given)) {
    if (!(k in wf.vars)) {
      const guess = closest(k, Object.keys(wf.vars));
      throw new UsageError(`--var ${k}: workflow "${wf.name}" has no variable "${k}"${guess ? `, did you mean "${guess}"?` : ""}`, {
        code: "E_WORKFLOW_VAR",
        hint: Object.keys(wf.vars).length ? `Its variables: ${Object.keys(wf.vars).join(", ")}` : "It declares no vars:",
      });
    }
    out[k] = v;
  }
  for (const [k, def] of Object.entries(wf.vars)) {
    if (out[k] !== undefined) continue;
    if (def.default === undefined) throw new UsageError(`Workflow "${wf.name}" needs --var ${k}=VALUE (it has no default)`, { code: "E_WORKFLOW_VAR" });
    out[k] = def.default;
  }
  return out;
}

/** Parses `--var k=v` (repeatable). */
export function parseVarFlags(value: unknown): Record<string, string> {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: Record<string, string> = {};
  for (const item of list) {
    const text = String(item);
    const eq = text.indexOf("=");
    if (eq < 1) throw new UsageError(`--var expects NAME=VALUE, got "${text}"`, { code: "E_WORKFLOW_VAR" });
    out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
}

/** Builtin names a template may use besides the declared variables. */
export const BUILTINS = ["workflow", "run.id", "run.failed", "host"];

/**
 * References that point nowhere: variables a template uses that are not declared, servers a
 * target names that the inventory does not hold. ConfigError (78) with file:line:col.
 */
export function checkReferences(wf: WorkflowDef, resolveTarget: (spec: string) => string | undefined): void {
  const problems: string[] = [];
  const declared = new Set([...Object.keys(wf.vars), ...BUILTINS]);
  const check = (at: string, text: string | undefined, what: string, refs: (t: string) => string[] = templateRefs) => {
    if (text === undefined) return;
    for (const ref of refs(text)) {
      if (!declared.has(ref)) {
        const guess = closest(ref, [...declared]);
        problems.push(`${at}: ${what}: unknown variable "${ref}"${guess ? ` (did you mean "${guess}"?)` : ""}`);
      }
    }
  };
  const checkTargets = (at: string, spec: string | undefined) => {
    if (spec === undefined) return;
    check(at, spec, "targets");
    if (spec.includes("{{")) return;
    const problem = resolveTarget(spec);
    if (problem) problems.push(`${at}: targets: ${problem}`);
  };
  checkTargets(wf.at, wf.targets);
  for (const s of wf.steps) {
    const a = s.action;
    const texts = a.type === "exec" || a.type === "local" ? [a.command] : a.type === "put" || a.type === "get" ? [a.src, a.dest] : a.type === "confirm" ? [a.message] : [a.until];
    for (const t of texts) check(s.at, t, `step ${s.index + 1}`);
    check(s.at, s.when, `step ${s.index + 1} when`, whenRefs);
    check(s.at, s.confirm, `step ${s.index + 1} confirm`);
    checkTargets(s.at, s.targets);
    const local = a.type === "local" || a.type === "confirm" || (a.type === "wait" && (a.local || !a.until));
    if (local && [...texts, s.when].some((t) => t !== undefined && templateRefs(t).includes("host"))) problems.push(`${s.at}: step ${s.index + 1}: {{host}} is only known in steps that run on servers`);
  }
  if (problems.length) throw new ConfigError("E_WORKFLOW_REF", problems.join("\n"), { hint: '"opsterm servers list" shows the servers; declare variables under vars:' });
}
