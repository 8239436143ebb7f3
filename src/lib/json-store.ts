/**
 * Small JSON state files (the plugin and workspace trust stores): a bounded read that names the
 * file when it is damaged, and a read-modify-write under a lock so two writers both land.
 */
import { DataError, type ErrorCode } from "../kernel/errors.ts";
import { atomicWrite } from "./atomic-write.ts";
import { READ_LIMITS, readBoundedText } from "./bounded-read.ts";
import { withLock } from "./lock.ts";

export interface JsonStoreSpec<T> {
  path: string;
  /** What a missing file means. */
  empty(): T;
  /** Throws (any Error) when the parsed data does not have the expected shape. */
  check(data: unknown): asserts data is T;
  /** The error code and the way out when the file is damaged. */
  code: ErrorCode;
  hint: string;
}

/** The spec of a `{ "version": 1, "<list>": [ … ] }` store, the shape of both trust stores. */
export function versionedListSpec<T>(path: string, list: string, code: ErrorCode, hint: string): JsonStoreSpec<T> {
  return {
    path,
    empty: () => ({ version: 1, [list]: [] }) as T,
    check(data): asserts data is T {
      const store = data as { version?: unknown } & Record<string, unknown>;
      if (store?.version !== 1 || !Array.isArray(store[list])) throw new Error("unexpected shape");
    },
    code,
    hint,
  };
}

export function readJsonStore<T>(spec: JsonStoreSpec<T>): T {
  const text = readBoundedText(spec.path, { maxBytes: READ_LIMITS.json, what: "JSON state files" });
  if (text === undefined) return spec.empty();
  try {
    const data: unknown = JSON.parse(text);
    spec.check(data);
    return data;
  } catch (error) {
    throw new DataError(spec.code, `${spec.path} is damaged: ${(error as Error).message}`, { hint: spec.hint });
  }
}

/** Read-modify-write under a lock; the file is written 0600. */
export async function updateJsonStore<T>(spec: JsonStoreSpec<T>, change: (store: T) => void): Promise<T> {
  return withLock(spec.path, async () => {
    const store = readJsonStore(spec);
    change(store);
    await atomicWrite(spec.path, JSON.stringify(store, null, 2) + "\n");
    return store;
  });
}
