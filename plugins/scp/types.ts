/**
 * The service the scp plugin provides as "files": single-file put and get through the
 * orchestrator (policy → approval → audit → transfer → audit), the building blocks the agent and
 * workflows use. Type-only.
 */
import type { CommandContext, RemoteAction, RemoteActionResult, Verdict } from "../../src/kernel/index.ts";
import type { SnapshotRef } from "../audit/types.ts";

export interface FileRequestBase {
  /** Inventory id. */
  server: string;
  /** Remote path (absolute, or relative to the login directory). */
  path: string;
  /** Jump hosts (inventory ids) replacing the inventory's chain. */
  via?: string[];
  origin?: RemoteAction["origin"];
  /** Approved in advance (`--yes`); rejected actions still never run. */
  preApproved?: boolean;
  approve?: (action: RemoteAction, verdict: Verdict) => Promise<string | false>;
  signal?: AbortSignal;
}

export interface PutRequest extends FileRequestBase {
  /** The new content; an async iterable (a stream) is written as it arrives, never held whole. */
  content: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Mode for a new file (default 0644). A replaced file keeps its mode, unless `forceMode`. */
  mode?: number;
  forceMode?: boolean;
  /** Expected size, for the progress bar. */
  size?: number;
  /** Draw a progress bar on stderr (only on a TTY, only for large transfers). */
  progress?: boolean;
}

export interface SnapshotPair {
  before?: SnapshotRef;
  after?: SnapshotRef;
}

/** Why a transfer did not succeed. */
export interface FileFailure {
  code: string;
  message: string;
  hint?: string;
}

export interface FileWriteResult {
  /** The orchestrator's structured result (verdict, audit status, error). */
  action: RemoteActionResult;
  server: string;
  /** The path written (a symlink's target when the path was a link). */
  path: string;
  bytes?: number;
  sha256?: string;
  mode?: number;
  replaced?: boolean;
  verifiedBy?: "sha256sum" | "sftp";
  snapshots: SnapshotPair;
  failure?: FileFailure;
  /** What a CLI should exit with: 0, 1 (failed, old file intact), 74 (audit/snapshot), 77 (denied), … */
  exitCode: number;
}

export interface GetRequest extends FileRequestBase {
  /** Refuse files larger than this (default 16 MiB): `get` returns the content in memory. */
  maxBytes?: number;
}

export interface FileReadResult {
  action: RemoteActionResult;
  server: string;
  path: string;
  content?: Uint8Array;
  bytes?: number;
  sha256?: string;
  mode?: number;
  failure?: FileFailure;
  exitCode: number;
}

export interface FilesService {
  /** Atomically writes one remote file (temp, fsync, verify, rename), snapshotted before and after. */
  put(ctx: CommandContext, request: PutRequest): Promise<FileWriteResult>;
  /** Reads one remote file into memory (action kind "read"). */
  get(ctx: CommandContext, request: GetRequest): Promise<FileReadResult>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    files: FilesService;
  }
}
