/**
 * The service the policy plugin provides as "policy". Pure and synchronous: the same command
 * line and options always give the same verdict.
 */
import type { Action, Verdict } from "../../src/kernel/index.ts";

export interface ClassifyOptions {
  /** Inventory id of the target server, for user rules scoped to servers. */
  server?: string;
  /** Policy tier of the server (e.g. "prod"), for user rules scoped to tiers. */
  tier?: string;
}

export interface PolicyService {
  /**
   * Classifies one shell command line. Synchronous; needs `await load()` first (callers load it
   * when they are about to classify, so commands that never do skip the parser). Before that it
   * throws E_POLICY_NOT_LOADED, which the orchestrator turns into a reject (fail closed).
   */
  classify(command: string, options?: ClassifyOptions): Verdict;
  /** Loads the parser and the policy.yaml files once; later calls return the same promise. */
  load?(): Promise<void>;
  /**
   * Verdict for starting a session (user rules `session: allow|ask|deny`); without a rule,
   * auto-allow only when `interactive` (a person at a terminal), else approval-required.
   */
  session?(options?: ClassifyOptions, interactive?: boolean): Verdict;
  /** The verdict for any kind of action (what the gate's `beforeAction` asks). */
  decide?(action: Action): Promise<Verdict>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    policy: PolicyService;
  }
}
