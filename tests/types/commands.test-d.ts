/**
 * Type tests (tsc --noEmit): a command's action gets arguments typed from its own usage and
 * options, so commands stop casting `Record<string, unknown>`.
 */
import { expectTypeOf } from "vitest";
import { defineCommand } from "../../src/kernel/index.ts";

defineCommand({
  name: "exec",
  description: "x",
  usage: "<target> [...command]",
  options: [
    { flags: "-y, --yes", description: "" },
    { flags: "-p, --parallel <n>", description: "" },
    { flags: "--connect-timeout <seconds>", description: "" },
    { flags: "--limit <n>", description: "", default: 20 },
  ],
  action(args) {
    expectTypeOf(args.target).toEqualTypeOf<string>();
    expectTypeOf(args.command).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(args.yes).toEqualTypeOf<boolean | undefined>();
    expectTypeOf(args.parallel).toEqualTypeOf<string | undefined>();
    expectTypeOf(args.connectTimeout).toEqualTypeOf<string | undefined>();
    expectTypeOf(args.limit).toEqualTypeOf<string | number>();
    expectTypeOf(args["--"]).toEqualTypeOf<string[]>();
  },
});

defineCommand({
  name: "get",
  description: "x",
  usage: "<server> <path> [local]",
  action(args) {
    expectTypeOf(args.server).toEqualTypeOf<string>();
    expectTypeOf(args.local).toEqualTypeOf<string | undefined>();
    // @ts-expect-error: a declared positional is a string, not a number
    args.path.toFixed();
  },
});

defineCommand({
  name: "ask",
  description: "x",
  usage: "[question...]",
  action(args) {
    expectTypeOf(args.question).toEqualTypeOf<string[] | undefined>();
  },
});
