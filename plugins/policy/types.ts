/**
 * The service the policy plugin provides as "policy". Pure and synchronous: the same command
 * line and options always give the same verdict.
 */
import type { Verdict } from "../../src/kernel/index.ts";

export interface ClassifyOptions {
  /** Inventory id of the target server, for user rules scoped to servers. */
  server?: string;
  /** Policy tier of the server (e.g. "prod"), for user rules scoped to tiers. */
  tier?: string;
}

export interface PolicyService {
  classify(command: string, options?: ClassifyOptions): Verdict;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    policy: PolicyService;
  }
}
