/**
 * Type tests, checked by `tsc --noEmit` (part of `npm test`): the declared hook map must make
 * wrong hook names and payloads fail to compile.
 */
import { expectTypeOf } from "vitest";
import { definePlugin, type CommandOutcome, type OpstermHooks, type Verdict } from "../../src/kernel/index.ts";
import { HOOK_STRATEGY, type HookName, type HookResult } from "../../src/kernel/hooks.ts";

// @ts-expect-error: "beforeExec" is not a hook
definePlugin({ name: "x", apiVersion: 1, hooks: { beforeExec: () => {} } });

// @ts-expect-error: apiVersion must be 1
definePlugin({ name: "x", apiVersion: 2 });

definePlugin({
  name: "x",
  apiVersion: 1,
  hooks: {
    // @ts-expect-error: a veto hook must return a Verdict (or undefined), not a boolean
    beforeAction: () => true,
  },
});

definePlugin({ name: "ok", apiVersion: 1, hooks: { beforeAction: () => ({ decision: "reject", rule: "r", reason: "why" }) } });
definePlugin({ name: "ok", apiVersion: 1, hooks: { close: { order: "post", handler: () => {} } } });

// Every declared hook has a run strategy, and no strategy names a hook that does not exist.
expectTypeOf<keyof typeof HOOK_STRATEGY>().toEqualTypeOf<HookName>();

expectTypeOf<Parameters<OpstermHooks["afterCommand"]>[0]>().toEqualTypeOf<CommandOutcome>();
expectTypeOf<HookResult<"beforeAction">>().toEqualTypeOf<Verdict | undefined>();
expectTypeOf<HookResult<"secretValues">>().toEqualTypeOf<string[]>();
expectTypeOf<HookResult<"chatRequest">["messages"]>().toBeArray();
