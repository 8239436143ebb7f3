/**
 * Fan-out helpers: bounded concurrency that keeps input order, and the exit code of a run over
 * many hosts.
 */
import { EXIT } from "../../src/kernel/index.ts";

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Exit code of a fan-out: 0 when all succeeded; 74 if audit failed anywhere; 77 when all were refused; else 1. */
export function fanoutExitCode(codes: number[]): number {
  if (codes.every((c) => c === 0)) return EXIT.OK;
  if (codes.includes(EXIT.IO)) return EXIT.IO;
  if (codes.every((c) => c === EXIT.DENIED)) return EXIT.DENIED;
  if (codes.every((c) => c === EXIT.INTERRUPTED || c === 0)) return EXIT.INTERRUPTED;
  return EXIT.FAILURE;
}
