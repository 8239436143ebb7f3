/**
 * Redaction benchmark (issue 8 §5): throughput on a 10 MB mixed log, and the per-call cost on a
 * typical command line (what audit and history pay for every exec).
 *
 *   tsx scripts/bench-redact.ts [--mb=10] [--runs=3] [--json] [--impl=path/to/redact.ts]
 *
 * `--impl` benchmarks another copy of the redactor (e.g. main's, for a before/after figure:
 * `git show main:src/lib/redact.ts > /tmp/redact-main.ts`). Times are wall clock and CPU time of
 * this process; on a busy machine the CPU figure is the steadier one.
 * The log is generated deterministically (nginx/syslog/journal/kubectl/JSON lines with git SHAs,
 * UUIDs, sha256 sums and base64 blobs, plus a secret every ~200 lines), so figures from two
 * versions of the redactor are comparable.
 */
import { cpus, loadavg } from "node:os";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { createRedactor as CreateRedactor } from "../src/lib/redact.ts";

const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const megabytes = Number(argOf("mb") ?? 10);
const runs = Math.max(1, Number(argOf("runs") ?? 3));
const json = process.argv.includes("--json");
const impl = argOf("impl");
const { createRedactor } = (await import(impl ? pathToFileURL(impl).href : "../src/lib/redact.ts")) as { createRedactor: typeof CreateRedactor };

/** xorshift32: the same "random" log on every run and machine. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const rand = prng(8);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
const HEX = "0123456789abcdef";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64 = ALNUM + "+/";
const uuid = () => `${chars(HEX, 8)}-${chars(HEX, 4)}-4${chars(HEX, 3)}-a${chars(HEX, 3)}-${chars(HEX, 12)}`;
const ip = () => `10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`;

const ORDINARY: (() => string)[] = [
  () => `${ip()} - - [12/Mar/2026:10:${Math.floor(rand() * 60)}:01 +0000] "GET /api/v1/orders/${uuid()}?page=${Math.floor(rand() * 9)} HTTP/1.1" 200 ${Math.floor(rand() * 9999)} "-" "Mozilla/5.0 (X11; Linux x86_64)"`,
  () => `Mar 12 10:01:02 web-1 systemd[1]: Started nginx.service - A high performance web server and a reverse proxy server.`,
  () => `Mar 12 10:01:03 web-1 kernel: [${Math.floor(rand() * 99999)}.123] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.`,
  () => `commit ${chars(HEX, 40)}\nAuthor: Dev Person <dev@example.com>\n    fix: handle empty token list in the parser`,
  () => `${chars(HEX, 64)}  /var/cache/apt/archives/libssl3_3.0.${Math.floor(rand() * 20)}-1_amd64.deb`,
  () => `{"level":"info","ts":"2026-03-12T10:01:02Z","msg":"request done","trace_id":"${chars(HEX, 32)}","span":"${chars(HEX, 16)}","duration_ms":${Math.floor(rand() * 900)},"user":"u${Math.floor(rand() * 999)}"}`,
  () => `pod/api-${chars(HEX, 10)}-${chars("abcdefghijklmnopqrstuvwxyz0123456789", 5)}   1/1     Running   0          3d4h   ${ip()}   node-${Math.floor(rand() * 9)}`,
  () => `image: registry.example.com/app@sha256:${chars(HEX, 64)}`,
  () => `checksum: ${Buffer.from(`ordinary text line number ${Math.floor(rand() * 1e6)} about the build`).toString("base64")}`,
  () => `2026-03-12 10:01:02,123 WARN [pool-3-thread-7] c.e.app.Cache - cache miss ratio 0.${Math.floor(rand() * 99)} over ${Math.floor(rand() * 9999)} lookups (key=user:${Math.floor(rand() * 99999)})`,
  () => `    at com.example.service.Handler.process(Handler.java:${Math.floor(rand() * 400)})`,
  () => `drwxr-xr-x  2 deploy deploy 4096 Mar 12 10:01 release-${chars(HEX, 7)}`,
];

const SECRETS: (() => string)[] = [
  () => `export AWS_SECRET_ACCESS_KEY=${chars(B64, 40)}`,
  () => `curl -u deploy:${chars(ALNUM, 14)} https://ci.example.com/api`,
  () => `mysql -h db-1 -u app -p${chars(ALNUM, 12)} app`,
  () => `  PASSWORD: ${chars(ALNUM, 16)}`,
  () => `token sk_live_${chars(ALNUM, 24)} used`,
  () => `X-API-Key: ${chars(ALNUM, 32)}`,
  () => `key AKIA${chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)} found`,
  () => `postgres://app:${chars(ALNUM, 10)}@db-1:5432/app`,
];

function makeLog(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const line = ++n % 200 === 0 ? pick(SECRETS)() : pick(ORDINARY)();
    parts.push(line);
    size += line.length + 1;
  }
  return parts.join("\n") + "\n";
}

const COMMAND_LINES = [
  "mysql -h db-1.internal -u app -pS3cretPassw0rd app -e 'select count(*) from orders'",
  "systemctl restart nginx && journalctl -u nginx -n 50 --no-pager",
  "kubectl -n prod get pods -o wide | grep -v Running",
  "curl -fsS -H 'Authorization: Bearer abc.def.ghi' https://api.example.com/v1/health",
  "tar czf /backup/etc-$(date +%F).tgz /etc && ls -la /backup",
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const log = makeLog(megabytes * 1024 * 1024);
const mb = Buffer.byteLength(log) / 1024 / 1024;
const knownSecrets = Array.from({ length: 20 }, (_, i) => `vault-value-${i}-${chars(ALNUM, 16)}`);

createRedactor({ knownSecrets }).redact(log.slice(0, 200_000)); // warm up the regex engine
const logMs: number[] = [];
const logCpuMs: number[] = [];
let count = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  count = createRedactor({ knownSecrets }).redact(log).count;
  const c = process.cpuUsage(c0);
  logMs.push(performance.now() - t0);
  logCpuMs.push((c.user + c.system) / 1000);
}

// Per call: a fresh redactor per record, as audit and history build one per record.
const calls = 20_000;
for (let i = 0; i < 2000; i++) createRedactor({ knownSecrets }).redact(COMMAND_LINES[i % COMMAND_LINES.length]);
const t1 = performance.now();
const c1 = process.cpuUsage();
for (let i = 0; i < calls; i++) createRedactor({ knownSecrets }).redact(COMMAND_LINES[i % COMMAND_LINES.length]);
const cpu1 = process.cpuUsage(c1);
const perCallUs = ((performance.now() - t1) / calls) * 1000;
const perCallCpuUs = ((cpu1.user + cpu1.system) / 1000 / calls) * 1000;

// Streaming the same log in 64 KiB chunks (what a consumer that emits as it goes pays).
const s = createRedactor({ knownSecrets }).stream();
const t2 = performance.now();
for (let at = 0; at < log.length; at += 65_536) s.push(log.slice(at, at + 65_536));
s.end();
const streamMs = performance.now() - t2;

const result = {
  logMB: Number(mb.toFixed(1)),
  redactions: count,
  medianMs: Math.round(median(logMs)),
  mbPerSecond: Number((mb / (median(logMs) / 1000)).toFixed(1)),
  cpuMbPerSecond: Number((mb / (median(logCpuMs) / 1000)).toFixed(1)),
  streamMbPerSecond: Number((mb / (streamMs / 1000)).toFixed(1)),
  perCallMicroseconds: Number(perCallUs.toFixed(1)),
  perCallCpuMicroseconds: Number(perCallCpuUs.toFixed(1)),
  node: process.version,
  cpus: cpus().length,
  load: loadavg()[0].toFixed(2),
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`${impl ?? "src/lib/redact.ts"}`);
  console.log(`log: ${result.logMB} MB, ${result.redactions} redactions, median of ${runs}: ${result.medianMs} ms = ${result.mbPerSecond} MB/s wall, ${result.cpuMbPerSecond} MB/s CPU (stream, 64 KiB chunks: ${result.streamMbPerSecond} MB/s)`);
  console.log(`typical command line: ${result.perCallMicroseconds} µs per call wall, ${result.perCallCpuMicroseconds} µs CPU (new redactor + redact)`);
  console.log(`node ${result.node}, ${result.cpus} cpus, load ${result.load}`);
}
