import { describe, expect, it } from "vitest";
import { definePlugin, OpstermError } from "../../src/kernel/index.ts";
import { createTestKernel } from "../helpers/test-kernel.ts";

describe("createKernel()", () => {
  it("runs setup in tier order and teardowns in reverse", async () => {
    const log: string[] = [];
    const mk = (name: string, enforce?: "pre" | "post") =>
      definePlugin({
        name,
        apiVersion: 1,
        enforce,
        setup: () => {
          log.push(`setup ${name}`);
          return () => void log.push(`teardown ${name}`);
        },
      });
    const { kernel } = await createTestKernel([mk("late", "post"), mk("normal"), mk("early", "pre")]);
    expect(log).toEqual(["setup early", "setup normal", "setup late"]);
    await kernel.close();
    expect(log.slice(3)).toEqual(["teardown late", "teardown normal", "teardown early"]);
  });

  it("runs every teardown even when one throws, and rethrows the first error", async () => {
    const log: string[] = [];
    const plugins = ["a", "b", "c"].map((name) =>
      definePlugin({
        name,
        apiVersion: 1,
        setup: () => () => {
          log.push(name);
          if (name !== "a") throw new Error(`${name} failed`);
        },
      }),
    );
    const { kernel } = await createTestKernel(plugins);
    await expect(kernel.close()).rejects.toThrow(/"c" failed in teardown: c failed/);
    expect(log).toEqual(["c", "b", "a"]);
  });

  it("reports a plugin that throws in setup by name, skips it, and keeps the others", async () => {
    const broken = definePlugin({
      name: "broken",
      apiVersion: 1,
      commands: [{ name: "broken-cmd", description: "x", action: () => 0 }],
      hooks: { beforeCommand: () => void 0 },
      setup: (ctx) => {
        ctx.provide("half-made", {});
        throw new Error("cannot open socket");
      },
    });
    const fine = definePlugin({ name: "fine", apiVersion: 1, commands: [{ name: "fine-cmd", description: "y", action: () => 0 }] });
    const { kernel, ctx } = await createTestKernel([broken, fine]);
    expect(kernel.facts.failures).toEqual([expect.objectContaining({ name: "broken", code: "E_PLUGIN", message: expect.stringContaining("cannot open socket") })]);
    expect(kernel.registry.get("broken-cmd")).toBeUndefined();
    expect(kernel.registry.get("fine-cmd")?.plugin).toBe("fine");
    expect(kernel.hooks.handlersOf("beforeCommand")).toEqual([]);
    expect(ctx.tryUse("half-made")).toBeUndefined();
  });

  it("skips a plugin whose command clashes with an earlier one, naming both", async () => {
    const a = definePlugin({ name: "a", apiVersion: 1, commands: [{ name: "deploy", description: "", action: () => 0 }] });
    const b = definePlugin({ name: "b", apiVersion: 1, commands: [{ name: "deploy", description: "", action: () => 0 }] });
    const { kernel } = await createTestKernel([a, b]);
    expect(kernel.registry.get("deploy")?.plugin).toBe("a");
    expect(kernel.facts.failures[0]).toMatchObject({ name: "b", code: "E_COMMAND_CONFLICT" });
    expect(kernel.facts.failures[0].message).toContain('"a" already has');
  });

  it("provides services between plugins and names the missing one", async () => {
    const provider = definePlugin({ name: "provider", apiVersion: 1, enforce: "pre", setup: (ctx) => ctx.provide("clock", { now: () => 42 }) });
    const { ctx } = await createTestKernel([provider]);
    expect((ctx.use("clock") as { now(): number }).now()).toBe(42);
    expect(() => ctx.use("nope")).toThrow(OpstermError);
    expect(() => ctx.use("nope")).toThrow(/No plugin provides "nope"/);
  });
});
