/**
 * `npm run bench`: runs every scripts/bench-*.ts in turn (each prints its own figures) and exits
 * non-zero when any of them does. `npm run bench -- startup` runs only the matching ones.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith("-"));
const benches = readdirSync(here)
  .filter((f) => /^bench-.+\.ts$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((q) => f.includes(q)))
  .sort();
if (benches.length === 0) {
  process.stderr.write(`bench: no scripts/bench-*.ts${filters.length ? ` matching ${filters.join(", ")}` : ""}\n`);
  process.exit(2);
}
const failed: string[] = [];
for (const file of benches) {
  process.stdout.write(`\n== ${file} ==\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, file), ...passThrough], { stdio: "inherit", cwd: dirname(here) });
  if (r.status !== 0) failed.push(`${file} (exit ${r.status ?? r.signal})`);
}
process.stdout.write(`\n${benches.length - failed.length}/${benches.length} benchmarks ok${failed.length ? `; failed: ${failed.join(", ")}` : ""}\n`);
process.exit(failed.length ? 1 : 0);
