/**
 * The "policy" service: loads the engine (unbash) and policy.yaml on first need, so `--help`
 * and commands that never touch a server pay nothing for them.
 */
import { OpstermError } from "../../src/kernel/errors.ts";
import { stateFiles, type Action, type Paths, type Verdict } from "../../src/kernel/index.ts";
import { shellQuote } from "../../src/lib/shell-quote.ts";
import type { ClassifyOptions, PolicyService } from "./types.ts";
import type { RuleFile } from "./user-rules.ts";
import { logTree, normalisePath } from "./paths.ts";

export interface LoadedPolicyService extends PolicyService {
  load(): Promise<void>;
  session(options?: ClassifyOptions, interactive?: boolean): Verdict;
  decide(action: Action): Promise<Verdict>;
  /** Rule files that were read. */
  files(): string[];
  /** The verdict plus the option-table entries and rules that decided (`policy check --explain`). */
  explain(command: string, options?: ClassifyOptions): { verdict: Verdict; trace: string[] };
}

/**
 * policy.yaml in the global config dir, then in the workspace's .opsterm/ if it is trusted.
 * Call it when the rules are needed: looking at the workspace may give the untrusted notice.
 */
export function ruleFiles(paths: Paths): RuleFile[] {
  return stateFiles(paths, "policy.yaml");
}

export function createPolicyService(files: RuleFile[] | (() => RuleFile[]), egress: () => Promise<readonly string[]> = async () => []): LoadedPolicyService {
  let engine:
    | {
        classify: PolicyService["classify"];
        explain: (command: string, options?: ClassifyOptions) => { verdict: Verdict; trace: string[] };
        session: (o: ClassifyOptions, interactive?: boolean) => Verdict;
        sensitive: (p: string) => string | undefined;
        invalid: Verdict | undefined;
      }
    | undefined;
  let loading: Promise<void> | undefined;
  let read: string[] = [];

  const ready = () => {
    if (!engine) {
      throw new OpstermError("E_POLICY_NOT_LOADED", "The policy engine was used before it was loaded", { hint: "Call `await policy.load()` before `classify()`" });
    }
    return engine;
  };

  const service: LoadedPolicyService = {
    load() {
      loading ??= (async () => {
        const [{ classify, createEngine, invalidRulesVerdict, sessionVerdict }, { loadUserRules }, { sensitivePath }] = await Promise.all([import("./engine.ts"), import("./user-rules.ts"), import("./allow-list.ts")]);
        const rules = await loadUserRules(typeof files === "function" ? files() : files);
        const env = { egress: await egress() };
        read = rules.files;
        // Verdicts cached per line and applicable rules (engine.ts): one line on 50 hosts is judged once.
        const cached = createEngine(rules, env);
        engine = {
          classify: cached.classify,
          explain: (command, options = {}) => {
            const trace: string[] = [];
            const verdict = classify(command, options, rules, { ...env, trace });
            return { verdict, trace };
          },
          session: (options, interactive) => sessionVerdict(rules, options, interactive),
          sensitive: sensitivePath,
          invalid: invalidRulesVerdict(rules),
        };
      })();
      return loading;
    },
    classify: (command, options) => ready().classify(command, options),
    explain: (command, options) => ready().explain(command, options),
    session: (options = {}, interactive) => ready().session(options, interactive),
    files: () => read,
    async decide(action) {
      await service.load();
      const e = ready();
      const options = { server: action.server, tier: action.tier };
      switch (action.kind) {
        case "exec":
        case "local":
          // A working directory changes what relative paths name: judge the line as it will run.
          return e.classify(action.cwd === undefined ? action.command : `cd -- ${shellQuote(action.cwd)} && ${action.command}`, options);
        case "session":
          return e.session(options, action.origin === "user" && action.interactive === true);
        case "read": {
          if (e.invalid) return e.invalid;
          const secret = action.path ? e.sensitive(action.path) : undefined;
          if (secret) return { decision: "approval-required", rule: "policy.sensitive-read", reason: `${action.path} may hold ${secret}`, segment: action.path };
          // A recursive download reads every file below the path, .ssh keys and .env files
          // included: like recursive grep, only a log tree is auto-allowed.
          if (action.recursive && !(action.path && logTree(normalisePath(action.path).path) && !normalisePath(action.path).escapes)) {
            return { decision: "approval-required", rule: "policy.recursive-read", reason: `a recursive download of ${action.path ?? "a directory"} reads every file below it (keys, .env files); only /var/log is auto-allowed`, segment: action.path };
          }
          return { decision: "auto-allow", rule: "policy.file-read", reason: "reading a file changes nothing on the server", segment: action.path };
        }
        case "write": {
          if (e.invalid) return e.invalid;
          return { decision: "approval-required", rule: "policy.file-write", reason: `a ${action.kind} changes files on ${action.server}`, segment: action.path };
        }
        case "list":
        case "stat":
        case "find": {
          // Names and sizes, never contents: nothing a secret file's name gives away is worth a question.
          if (e.invalid) return e.invalid;
          return { decision: "auto-allow", rule: "policy.file-metadata", reason: `a ${action.kind} reads names and attributes, not contents`, segment: action.path };
        }
        default:
          return { decision: "reject", rule: "policy.unknown-kind", reason: `unknown remote action kind ${JSON.stringify((action as { kind: unknown }).kind)}` };
      }
    },
  };
  return service;
}
