import { describe, expect, it } from "vitest";
import { createHookBus, HOOK_STRATEGY, type HookName } from "../../src/kernel/hooks.ts";
import { OpstermError, PluginError } from "../../src/kernel/errors.ts";
import type { Action } from "../../src/kernel/types.ts";

const action: Action = { kind: "exec", server: "s", command: "ls", origin: "user", actor: "alice (user)", runId: "r", target: { id: "s" } };

describe("createHookBus()", () => {
  it("call() runs serial hooks in tier order, then per-hook order, then registration order", async () => {
    const bus = createHookBus();
    const seen: string[] = [];
    bus.register("normal-a", 1, { beforeCommand: () => void seen.push("normal-a") });
    bus.register("post", 2, { beforeCommand: () => void seen.push("post") });
    bus.register("pre", 0, { beforeCommand: () => void seen.push("pre") });
    bus.register("normal-b", 1, { beforeCommand: { order: "pre", handler: () => void seen.push("normal-b(order:pre)") } });
    await bus.call("beforeCommand", { command: "x", args: {}, runId: "r" });
    expect(seen).toEqual(["pre", "normal-b(order:pre)", "normal-a", "post"]);
  });

  it("call() runs `reverse` hooks (afterCommand, close) last plugin first", async () => {
    const bus = createHookBus();
    const seen: string[] = [];
    bus.register("audit", 0, { close: () => void seen.push("audit") });
    bus.register("chat", 1, { close: () => void seen.push("chat") });
    await bus.call("close");
    expect(seen).toEqual(["chat", "audit"]);
  });

  it("call() on a veto hook returns the most restrictive verdict and stops at the first reject", async () => {
    const bus = createHookBus();
    let lateCalled = false;
    bus.register("a", 1, { beforeAction: () => ({ decision: "auto-allow", rule: "a", reason: "ok" }) });
    bus.register("b", 1, { beforeAction: () => ({ decision: "approval-required", rule: "b", reason: "hmm" }) });
    bus.register("c", 1, { beforeAction: () => ({ decision: "reject", rule: "c", reason: "no" }) });
    bus.register("d", 1, {
      beforeAction: () => {
        lateCalled = true;
        return undefined;
      },
    });
    expect(await bus.call("beforeAction", action)).toEqual({ decision: "reject", rule: "c", reason: "no", by: "c" });
    expect(lateCalled).toBe(false);
  });

  it("call() on a veto hook never reads a malformed verdict as permission", async () => {
    const bus = createHookBus();
    bus.register("odd", 1, { beforeAction: () => ({ decision: "sure" }) as never });
    expect(await bus.call("beforeAction", action)).toMatchObject({ decision: "reject", rule: "kernel.malformed-verdict", by: "odd" });
  });

  it("call() on a veto hook with no handlers returns undefined (callers treat it as no decision)", async () => {
    expect(await createHookBus().call("beforeAction", action)).toBeUndefined();
  });

  it("call() on `first` stops at the first defined result", async () => {
    const bus = createHookBus();
    bus.register("a", 1, { resolveSecret: () => undefined });
    bus.register("b", 1, { resolveSecret: (name) => `value-of-${name}` });
    bus.register("c", 1, { resolveSecret: () => "never" });
    expect(await bus.call("resolveSecret", "db")).toBe("value-of-db");
  });

  it("call() on `waterfall` passes each result to the next handler", async () => {
    const bus = createHookBus();
    bus.register("redact", 0, { chatRequest: (r) => ({ ...r, messages: r.messages.map((m) => ({ ...m, content: m.content.replace("hunter2", "[REDACTED]") })), redactions: r.redactions + 1 }) });
    bus.register("noop", 1, { chatRequest: () => undefined });
    bus.register("context", 1, { chatRequest: (r) => ({ ...r, messages: [{ role: "system", content: "os: linux" }, ...r.messages] }) });
    const out = await bus.call("chatRequest", { provider: "p", model: "m", messages: [{ role: "user", content: "pw hunter2" }], redactions: 0 });
    expect(out.messages).toEqual([{ role: "system", content: "os: linux" }, { role: "user", content: "pw [REDACTED]" }]);
    expect(out.redactions).toBe(1);
  });

  it("call() on `collect` flattens arrays from every handler", async () => {
    const bus = createHookBus();
    bus.register("vault", 1, { secretValues: () => ["a", "b"] });
    bus.register("chat", 1, { secretValues: async () => ["c"] });
    bus.register("none", 1, { secretValues: () => undefined });
    expect((await bus.call("secretValues")).sort()).toEqual(["a", "b", "c"]);
  });

  it("call() on `parallel` runs handlers concurrently", async () => {
    const bus = createHookBus();
    const events: string[] = [];
    const slow = (name: string) => async () => {
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`end ${name}`);
    };
    bus.register("a", 1, { ready: slow("a") });
    bus.register("b", 1, { ready: slow("b") });
    await bus.call("ready", { plugins: [] });
    expect(events.slice(0, 2)).toEqual(["start a", "start b"]);
  });

  it("call() attributes an unexpected throw to the plugin and hook", async () => {
    const bus = createHookBus();
    bus.register("flaky", 1, {
      afterCommand: () => {
        throw new TypeError("x is undefined");
      },
    });
    const error = await bus.call("afterCommand", { command: "c", args: {}, runId: "r", exitCode: 0, durationMs: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error).toMatchObject({ code: "E_PLUGIN", plugin: "flaky", hook: 'hook "afterCommand"' });
    expect(error.message).toContain("x is undefined");
  });

  it("call() keeps a typed error's code but fills in plugin and hook", async () => {
    const bus = createHookBus();
    bus.register("vault", 1, {
      resolveSecret: () => {
        throw new OpstermError("E_VAULT_LOCKED", "vault is locked");
      },
    });
    await expect(bus.call("resolveSecret", "x")).rejects.toMatchObject({ code: "E_VAULT_LOCKED", plugin: "vault", hook: "resolveSecret" });
  });

  it("register() refuses unknown hook names with the list of known ones", () => {
    const bus = createHookBus();
    expect(() => bus.register("typo", 1, { beforeExec: () => {} } as never)).toThrow(/unknown hook "beforeExec"/);
  });

  // That every hook has an entry is the compiler's job (`satisfies`, and tests/types/hooks.test-d.ts);
  // here: each entry is a strategy the bus actually runs.
  it("HOOK_STRATEGY gives every hook a strategy the bus can run", async () => {
    const bus = createHookBus();
    for (const [name, strategy] of Object.entries(HOOK_STRATEGY) as [HookName, string][]) {
      expect(["serial", "reverse", "parallel", "first", "waterfall", "veto", "collect"]).toContain(strategy);
      bus.register("p", 1, { [name]: () => undefined });
      await expect(bus.call(name, undefined as never), name).resolves.not.toBeInstanceOf(Error);
    }
  });
});
