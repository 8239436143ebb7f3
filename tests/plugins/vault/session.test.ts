/**
 * The vault of one process (createVaultStore): one scrypt derivation however many values are
 * used, changes that re-read the file under the lock, a rekey by another process noticed rather
 * than overwritten, and every decrypted value reported for the redactor.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../../src/kernel/index.ts";
import { derivationCount } from "../../../plugins/vault/crypto.ts";
import { createVaultStore } from "../../../plugins/vault/session.ts";
import { tempHome } from "./helpers.ts";

function storeIn(dir: string, env: Record<string, string> = { OPSTERM_VAULT_PASSWORD: "pw" }) {
  const config: LoadedConfig = { values: {}, sources: [], origins: [], ignored: [], get: () => undefined, scopeOf: () => undefined };
  const io = { isTTY: { stdin: false, stdout: false, stderr: false } } as never;
  return createVaultStore({ env, io, config: async () => config, paths: { configDir: dir, dataDir: dir, home: dir } });
}

describe("createVaultStore()", () => {
  it("derives the key once, however many values are read, listed, checked or resolved", async () => {
    const dir = tempHome();
    await storeIn(dir).init({ logN: 15 });
    await storeIn(dir).set([
      { name: "a", value: "value-a" },
      { name: "b", value: "value-b" },
      { name: "c", value: "value-c" },
    ]);
    const store = storeIn(dir);
    const before = derivationCount();
    await Promise.all([store.get("a"), store.get("b"), store.list(), store.checkRefs("x ${vault:c}")]);
    const r = await store.resolveRefs("echo ${vault:a} ${vault:b} ${vault:a}", { quote: "shell" });
    await store.set([{ name: "d", value: "value-d" }]);
    expect(await store.get("d")).toBe("value-d");
    expect(derivationCount() - before).toBe(1);
    expect(r).toEqual({ text: "echo 'value-a' 'value-b' 'value-a'", values: ["value-a", "value-b"], names: ["a", "b"] });
    expect(store.knownValues().sort()).toEqual(["value-a", "value-b", "value-c", "value-d"]);
  }, 60_000);

  it("a reference to an unknown name fails the check (78) with a suggestion", async () => {
    const dir = tempHome();
    const store = storeIn(dir);
    await store.init({ logN: 15 });
    await store.set([{ name: "db_password", value: "x-value" }]);
    await expect(store.checkRefs("psql -p ${vault:db_passwd}")).rejects.toMatchObject({ code: "E_VAULT_UNKNOWN", exitCode: 78, message: expect.stringMatching(/did you mean "db_password"/) });
    await expect(store.resolveRefs("${vault:nope}", { quote: "none" })).rejects.toMatchObject({ code: "E_VAULT_UNKNOWN" });
  }, 60_000);

  it("a change re-reads the file: entries another process added meanwhile are kept", async () => {
    const dir = tempHome();
    await storeIn(dir).init({ logN: 15 });
    const mine = storeIn(dir);
    await mine.list();
    await storeIn(dir).set([{ name: "theirs", value: "their-value" }]);
    await mine.set([{ name: "mine", value: "my-value" }]);
    expect((await storeIn(dir).list()).map((e) => e.name)).toEqual(["mine", "theirs"]);
  }, 60_000);

  it("a rekey by another process is noticed (75) instead of being overwritten with the old key", async () => {
    const dir = tempHome();
    await storeIn(dir).init({ logN: 15 });
    const stale = storeIn(dir);
    await stale.list();
    writeFileSync(`${dir}/new.pass`, "second passphrase\n", { mode: 0o600 });
    await storeIn(dir).rekey({ newPasswordFile: `${dir}/new.pass` });
    const text = readFileSync(`${dir}/vault.enc`, "utf8");
    await expect(stale.set([{ name: "x", value: "lost?" }])).rejects.toMatchObject({ code: "E_VAULT_REKEYED", exitCode: 75 });
    expect(readFileSync(`${dir}/vault.enc`, "utf8")).toBe(text);
  }, 60_000);
});
