/**
 * The policy plugin: a deterministic gate that classifies every remote action as auto-allow,
 * approval-required or reject. Provides the "policy" service; answers `beforeRemoteAction`.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { policyCommands } from "./commands.ts";
import { createPolicyService, ruleFiles, type LoadedPolicyService } from "./service.ts";
import type { RuleFile } from "./user-rules.ts";

let service: LoadedPolicyService | undefined;
let files: () => RuleFile[] = () => [];

export default definePlugin({
  name: "policy",
  apiVersion: 1,
  description: "Deterministic policy gate for remote commands (policy check)",
  enforce: "pre",
  commands: policyCommands,
  setup(ctx) {
    // Looked up when rules are first needed, not at setup: see ruleFiles().
    files = () => ruleFiles(ctx.paths);
    service = createPolicyService(files);
    ctx.provide("policy", service);
    return () => {
      service = undefined;
    };
  },
  hooks: {
    async beforeRemoteAction(action) {
      // No service means setup failed: answer reject rather than nothing.
      if (!service) return { decision: "reject", rule: "policy.unavailable", reason: "the policy plugin did not start" };
      return service.decide(action);
    },
    async doctor() {
      return (await import("./doctor.ts")).policyDoctor(files());
    },
  },
});
