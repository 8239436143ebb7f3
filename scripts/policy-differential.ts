/**
 * The long differential run: every generated variant the classifier auto-allows runs for real
 * under strace in a bubblewrap sandbox (see tests/plugins/policy/differential/sandbox.ts). Prints
 * the violations and exits 1 if there is any.
 *
 *   tsx scripts/policy-differential.ts [--parallel=2] [--batch=400] [--json]
 */
import process from "node:process";
import { autoAllowedJobs } from "../tests/plugins/policy/differential/jobs.ts";
import { runAll, sandboxAvailable } from "../tests/plugins/policy/differential/sandbox.ts";

const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
if (!sandboxAvailable()) {
  console.error("bwrap and strace must be installed and able to run (apt-get install bubblewrap strace)");
  process.exit(69);
}
const { jobs, total } = autoAllowedJobs();
const started = performance.now();
const { violations, ran } = await runAll(jobs, { parallel: Number(argOf("parallel") ?? 2), batch: Number(argOf("batch") ?? 400) });
const seconds = (performance.now() - started) / 1000;
if (process.argv.includes("--json")) console.log(JSON.stringify({ generated: total, autoAllowed: jobs.length, ran, seconds, violations }));
else {
  for (const v of violations) console.log(`${v.kind.padEnd(8)} ${JSON.stringify(v.command)}  ${v.detail}`);
  console.log(`generated ${total}, auto-allowed ${jobs.length}, ran ${ran} in ${seconds.toFixed(1)} s: ${violations.length} violation(s)`);
}
process.exit(violations.length ? 1 : 0);
