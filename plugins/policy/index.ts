/**
 * The policy plugin: a deterministic gate that classifies every action as auto-allow,
 * approval-required or reject. It answers the gate's `beforeAction` veto (the one channel) and
 * provides the "policy" service for screens that classify a command line by itself.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { policyCommands } from "./commands.ts";
import { POLICY_CONFIG, egressAllow } from "./config.ts";
import { createPolicyService, ruleFiles } from "./service.ts";

export default definePlugin({
  name: "policy",
  apiVersion: 1,
  description: "Deterministic policy gate for remote commands (policy check)",
  enforce: "pre",
  config: POLICY_CONFIG,
  commands: policyCommands,
  setup(ctx) {
    // Looked up when rules are first needed, not at setup: see ruleFiles().
    ctx.provide("policy", createPolicyService(() => ruleFiles(ctx.paths), () => egressAllow(ctx.config)));
  },
  hooks: {
    async beforeAction(action, ctx) {
      const service = ctx.tryUse("policy");
      // No service means setup failed: answer reject rather than nothing.
      if (!service?.decide) return { decision: "reject", rule: "policy.unavailable", reason: "the policy plugin did not start" };
      return service.decide(action);
    },
    async doctor(_, ctx) {
      return (await import("./doctor.ts")).policyDoctor(ruleFiles(ctx.paths));
    },
  },
});
