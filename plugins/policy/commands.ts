/**
 * `opsterm policy check [--server S] [--tier T] [--json] [--exit-code] -- <command>` and
 * `opsterm policy check --batch` (JSON string per line in, JSON object per line out).
 */
import { defineCommand, type CommandContext, type CommandSpec, type Verdict } from "../../src/kernel/index.ts";
import { UsageError } from "../../src/kernel/errors.ts";
import type { ClassifyOptions } from "./types.ts";
import type { LoadedPolicyService } from "./service.ts";

/** Exit codes with --exit-code (documented in docs/policy.md). */
export const DECISION_EXIT: Record<Verdict["decision"], number> = { "auto-allow": 0, "approval-required": 10, reject: 77 };

const check = defineCommand({
  name: "policy check",
  groupDescription: "Classify commands: auto-allow, approval-required or reject, and why",
  description: "Classify a shell command: auto-allow, approval-required or reject, with the rule and why",
  usage: "[command...]",
  options: [
    { flags: "--server <id>", description: "Judge it for this inventory server (its tier and server rules apply)" },
    { flags: "--tier <tier>", description: "Judge it for this tier (e.g. prod); overrides the server's" },
    { flags: "--batch", description: "Read one JSON string per line from stdin, write one JSON object per line" },
    { flags: "--exit-code", description: "Exit 0 auto-allow, 10 approval-required, 77 reject (default: 0 for any answer)" },
  ],
  examples: [
    "opsterm policy check -- ls -la /var/log",
    "opsterm policy check --server db-1 --json -- 'systemctl restart postgresql'",
    `printf '%s\\n' '"uptime"' '"rm -rf /"' | opsterm policy check --batch`,
  ],
  async action(args, ctx) {
    const policy = ctx.use("policy") as LoadedPolicyService;
    await policy.load();
    const options = await targetOptions(args.server, args.tier, ctx);
    if (args.batch) return runBatch(policy, options, ctx);
    const words = args["--"].length ? args["--"] : ((args.command as string[] | undefined) ?? []);
    if (words.length === 0) {
      throw new UsageError("policy check: give the command after --", { code: "E_POLICY_NO_COMMAND", hint: `Example: opsterm policy check -- 'ls -la /var/log', or use --batch` });
    }
    const command = words.join(" ");
    const v = policy.classify(command, options);
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ command, decision: v.decision, rule: v.rule, reason: v.reason, segment: v.segment ?? null, server: options.server ?? null, tier: options.tier ?? null }));
    } else {
      const s = ctx.io.style;
      const paint = v.decision === "auto-allow" ? s.green : v.decision === "reject" ? s.red : s.yellow;
      ctx.io.out(`${s.bold(paint(v.decision))}  ${s.dim("rule")} ${v.rule}`);
      ctx.io.out(`  ${s.dim("reason ")} ${v.reason}`);
      if (v.segment) ctx.io.out(`  ${s.dim("segment")} ${JSON.stringify(v.segment)}`);
      if (options.server || options.tier) ctx.io.out(`  ${s.dim("target ")} ${[options.server && `server ${options.server}`, options.tier && `tier ${options.tier}`].filter(Boolean).join(", ")}`);
    }
    return args.exitCode ? DECISION_EXIT[v.decision] : 0;
  },
});

async function targetOptions(server: unknown, tier: unknown, ctx: CommandContext): Promise<ClassifyOptions> {
  const options: ClassifyOptions = {};
  if (typeof server === "string" && server) {
    options.server = server;
    // The inventory is optional: without the ssh plugin, --server only scopes server rules.
    const inventory = ctx.tryUse("inventory") as { get?: (id: string) => unknown; list?: () => Promise<{ id: string }[]> } | undefined;
    const entry = (await inventory?.get?.(server)) as { tier?: string } | undefined;
    if (inventory?.get && !entry) {
      // A mistyped id would silently skip the server's tier and rules: say so instead.
      const ids = ((await inventory.list?.()) ?? []).map((s) => s.id);
      if (ids.length === 0) {
        // Nothing to mistype against: judge with the server's own rules, without a tier.
        ctx.io.warn(`server "${server}" is not in the inventory (no servers yet): no tier applies; use --tier T to judge for one`);
      } else {
        const { closest } = await import("../../src/lib/schema.ts");
        const guess = closest(server, ids);
        throw new UsageError(`Unknown server "${server}"${guess ? ` (did you mean "${guess}"?)` : ""}`, { code: "E_TARGET", hint: '"opsterm servers list" shows the ids; --tier T judges for a tier without a server' });
      }
    }
    if (entry?.tier) options.tier = entry.tier;
  }
  if (typeof tier === "string" && tier) options.tier = tier;
  return options;
}

function runBatch(policy: LoadedPolicyService, options: ClassifyOptions, ctx: CommandContext): Promise<number> {
  const stdin = ctx.io.stdin;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let bad = 0;

  // A line that is not a JSON string still gets an answer in the same shape, so a reader that
  // only looks at `decision` fails closed; `error` says what was wrong with the line.
  const badLine = (command: string, message: string): string => {
    bad++;
    return JSON.stringify({ command, decision: "reject", rule: "input.bad-line", reason: message, line: lineNo, error: { code: "E_BATCH_LINE", message } });
  };

  const judge = (bytes: Buffer): string => {
    lineNo++;
    if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const lossy = bytes.toString("utf8");
      return JSON.stringify({ command: lossy, decision: "reject", rule: "input.invalid-utf8", reason: `line ${lineNo} is not valid UTF-8` });
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return badLine(text, `line ${lineNo} is not JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "string") {
      return badLine(text, `line ${lineNo} is JSON ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}, not a string`);
    }
    const v = policy.classify(value, options);
    return JSON.stringify({ command: value, decision: v.decision, rule: v.rule, reason: v.reason });
  };

  const drain = (final: boolean): void => {
    const out: string[] = [];
    let start = 0;
    for (let i = pending.indexOf(10); i >= 0; i = pending.indexOf(10, start)) {
      out.push(judge(pending.subarray(start, i)));
      start = i + 1;
    }
    pending = pending.subarray(start);
    if (final && pending.length > 0) {
      out.push(judge(pending));
      pending = Buffer.alloc(0);
    }
    if (out.length === 0) return;
    // Backpressure: a slow reader pauses stdin instead of buffering every answer in memory.
    if (!ctx.io.stdout.write(out.join("\n") + "\n")) {
      stdin.pause();
      ctx.io.stdout.once("drain", () => stdin.resume());
    }
  };

  return new Promise((resolve, reject) => {
    if (stdin.isTTY) ctx.io.warn("policy check --batch reads JSON strings from stdin, one per line; end with Ctrl-D");
    stdin.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      drain(false);
    });
    stdin.on("end", () => {
      drain(true);
      // The process exits right after: resolve only once everything written has been flushed.
      ctx.io.stdout.write("", () => resolve(bad > 0 ? 65 : 0));
    });
    stdin.on("error", reject);
  });
}

export const policyCommands: CommandSpec[] = [check];
