/**
 * The vault of one process: unlocked at most once (one scrypt derivation however many values are
 * used), the key kept only in memory and zeroed at exit. Changes re-read the file under the lock
 * and open it with the same key, so concurrent processes never lose each other's entries; the
 * slow derivation happens before the lock is taken.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, OpstermError, TemporaryError, UsageError, type PluginContext } from "../../src/kernel/index.ts";
import { closest } from "../../src/lib/schema.ts";
import { deriveKey, newKdf, type KdfParams } from "./crypto.ts";
import { updateVaultFile, readVaultFile } from "./file.ts";
import { isValidName, NAME_RULE, openVault, parseVault, sealVault, type Entries } from "./format.ts";
import { findReferences, substitute } from "./refs.ts";
import type { ResolvedRefs, UnlockOptions, VaultEntryInfo, VaultService } from "./types.ts";
import { currentPassphrase, newPassphrase } from "./unlock.ts";

interface Opened {
  kdf: KdfParams;
  key: Uint8Array;
  entries: Entries;
  /** Where the passphrase came from (for the wrong-passphrase message of a later re-read). */
  source: string;
}

export interface NewEntry {
  name: string;
  value: string;
  note?: string;
}

export interface VaultStore extends VaultService {
  readonly path: string;
  /** Creates vault.enc; refuses when it exists. */
  init(options: UnlockOptions & { logN?: number }): Promise<{ source: string }>;
  /** Adds or replaces entries in one write. */
  set(entries: NewEntry[], options?: UnlockOptions): Promise<{ added: string[]; updated: string[] }>;
  remove(name: string, options?: UnlockOptions): Promise<void>;
  /** New passphrase and salt (and work factor, if given) for the same entries. */
  rekey(options: UnlockOptions & { newPasswordFile?: string; logN?: number }): Promise<{ logN: number }>;
  /** Zeroes the key. */
  close(): void;
}

type Ctx = Pick<PluginContext, "env" | "io" | "config" | "paths">;

export function vaultPath(configDir: string): string {
  return join(configDir, "vault.enc");
}

export function createVaultStore(ctx: Ctx): VaultStore {
  const path = vaultPath(ctx.paths.configDir);
  let opening: Promise<Opened> | undefined;
  let opened: Opened | undefined;
  const seen = new Set<string>();

  const remember = (o: Opened): Opened => {
    for (const e of o.entries.values()) seen.add(e.value);
    opened = o;
    return o;
  };

  function unlock(options: UnlockOptions = {}): Promise<Opened> {
    opening ??= (async () => {
      const text = readVaultFile(path);
      if (text === undefined) throw noVault(path);
      const sealed = parseVault(text, path);
      const passphrase = await currentPassphrase(ctx, options.passwordFile);
      const key = await deriveKey(passphrase.value, sealed.header.kdf);
      return remember({ kdf: sealed.header.kdf, key, entries: openVault(sealed, key, path, passphrase.source), source: passphrase.source });
    })();
    // A failed unlock (wrong passphrase, Ctrl-C) may be tried again by a later call.
    opening.catch(() => (opening = undefined));
    return opening;
  }

  /** Re-reads the file under the lock, opens it with this process's key, applies `change`, writes it back. */
  async function change<R>(options: UnlockOptions, apply: (entries: Entries) => R, rekeyTo?: { kdf: KdfParams; key: Uint8Array }): Promise<R> {
    const current = await unlock(options);
    const next = rekeyTo ?? current;
    let result!: R;
    let written!: Entries;
    await updateVaultFile(path, (text) => {
      if (text === undefined) throw noVault(path);
      const sealed = parseVault(text, path);
      if (!sameKdf(sealed.header.kdf, current.kdf)) {
        throw new TemporaryError("E_VAULT_REKEYED", "Another opsterm process re-keyed the vault meanwhile; nothing was changed", { hint: "Run the command again" });
      }
      written = openVault(sealed, current.key, path, current.source);
      result = apply(written);
      return sealVault(written, next.kdf, next.key);
    });
    // In place: callers holding the unlock promise see the new entries (and key, after a rekey).
    remember(Object.assign(current, { kdf: next.kdf, key: next.key, entries: written }));
    return result;
  }

  function entryOf(o: Opened, name: string) {
    const entry = o.entries.get(name);
    if (!entry) throw unknownName(name, [...o.entries.keys()]);
    return entry;
  }

  const store: VaultStore = {
    path,
    async exists() {
      return existsSync(path);
    },
    async list(options) {
      const o = await unlock(options);
      return [...o.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, e]): VaultEntryInfo => ({ name, created: e.created, updated: e.updated, ...(e.note === undefined ? {} : { note: e.note }) }));
    },
    async get(name, options) {
      return entryOf(await unlock(options), name).value;
    },
    async references(text) {
      return [...new Set(findReferences(text).map((r) => r.name))];
    },
    async checkRefs(text) {
      const refs = findReferences(text);
      if (refs.length === 0) return;
      const o = await unlock();
      for (const ref of refs) entryOf(o, ref.name);
    },
    async resolveRefs(text, { quote }): Promise<ResolvedRefs> {
      const refs = findReferences(text);
      if (refs.length === 0) return { text, values: [], names: [] };
      const o = await unlock();
      const resolved = substitute(text, refs, (name) => entryOf(o, name).value, quote);
      const names = [...new Set(refs.map((r) => r.name))];
      return { text: resolved, values: [...new Set(names.map((n) => entryOf(o, n).value))], names };
    },
    knownValues: () => [...seen],

    async init(options) {
      if (readVaultFile(path) !== undefined) {
        throw new UsageError(`A vault already exists at ${path}`, { code: "E_VAULT_EXISTS", hint: 'Change its passphrase with "opsterm vault rekey"; to start over, move the file away first' });
      }
      const passphrase = await currentPassphrase(ctx, options.passwordFile, true);
      const kdf = newKdf(options.logN);
      const key = await deriveKey(passphrase.value, kdf);
      await updateVaultFile(path, (text) => {
        if (text !== undefined) throw new UsageError(`A vault was created at ${path} meanwhile`, { code: "E_VAULT_EXISTS" });
        return sealVault(new Map(), kdf, key);
      });
      opening = Promise.resolve(remember({ kdf, key, entries: new Map(), source: passphrase.source }));
      return { source: passphrase.source };
    },
    async set(list, options = {}) {
      for (const e of list) if (!isValidName(e.name)) throw badName(e.name);
      const now = new Date().toISOString();
      return change(options, (entries) => {
        const added: string[] = [];
        const updated: string[] = [];
        for (const e of list) {
          const old = entries.get(e.name);
          (old ? updated : added).push(e.name);
          const note = e.note ?? old?.note;
          entries.set(e.name, { value: e.value, created: old?.created ?? now, updated: now, ...(note === undefined ? {} : { note }) });
        }
        return { added, updated };
      });
    },
    async remove(name, options = {}) {
      await change(options, (entries) => {
        if (!entries.delete(name)) throw unknownName(name, [...entries.keys()]);
      });
    },
    async rekey(options) {
      const current = await unlock(options);
      const passphrase = await newPassphrase(ctx, options.newPasswordFile);
      const kdf = newKdf(options.logN ?? current.kdf.logN);
      const key = await deriveKey(passphrase.value, kdf);
      const oldKey = current.key;
      await change(options, () => undefined, { kdf, key });
      oldKey.fill(0);
      return { logN: kdf.logN };
    },
    close() {
      opened?.key.fill(0);
      opened = undefined;
      opening = undefined;
    },
  };
  return store;
}

function sameKdf(a: KdfParams, b: KdfParams): boolean {
  return a.salt === b.salt && a.logN === b.logN && a.r === b.r && a.p === b.p;
}

function noVault(path: string): ConfigError {
  return new ConfigError("E_VAULT_NONE", `There is no vault yet (${path})`, { hint: "Create it with: opsterm vault init" });
}

function badName(name: string): UsageError {
  return new UsageError(`${JSON.stringify(name.slice(0, 60))} is not a vault name: use ${NAME_RULE}`, { code: "E_VAULT_NAME" });
}

function unknownName(name: string, known: string[]): OpstermError {
  const guess = closest(name, known);
  return new OpstermError("E_VAULT_UNKNOWN", `"${name}" is not in the vault${guess ? `; did you mean "${guess}"?` : ""}`, {
    hint: '"opsterm vault list" shows the names; "opsterm vault set NAME" adds one',
  });
}
