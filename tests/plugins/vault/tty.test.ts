/**
 * On a real terminal (a pty): the passphrase and values are typed without echo, init asks twice,
 * and `vault get` shows a value on the terminal only with --reveal.
 */
import { describe, expect, it } from "vitest";
import { runOnTty } from "../../helpers/pty.ts";
import { tempHome } from "./helpers.ts";

const env = (home: string) => ({ OPSTERM_HOME: home, HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1" });

describe("vault on a terminal", () => {
  it("init asks twice and set asks for the passphrase, then the value: nothing typed is echoed", async () => {
    const home = tempHome();
    const init = await runOnTty(["vault", "init", "--log-n", "15"], env(home), [
      { when: /New vault passphrase: /, send: "typed-passphrase-1" },
      { when: /Repeat it: /, send: "typed-passphrase-1" },
    ]);
    expect(init.output).toMatch(/Created .*vault\.enc \(passphrase from the terminal\)/);
    expect(init.code).toBe(0);
    const set = await runOnTty(["vault", "set", "k"], env(home), [
      { when: /Vault passphrase: /, send: "typed-passphrase-1" },
      { when: /Value for k: /, send: "typed-value-2" },
    ]);
    expect(set.code).toBe(0);
    expect(set.output).toMatch(/Added k/);
    for (const r of [init, set]) {
      expect(r.output).not.toContain("typed-passphrase-1");
      expect(r.output).not.toContain("typed-value-2");
    }
    const shown = await runOnTty(["vault", "get", "k", "--reveal"], env(home), [{ when: /Vault passphrase: /, send: "typed-passphrase-1" }]);
    expect(shown.output).toContain("typed-value-2");
    const refused = await runOnTty(["vault", "get", "k"], env(home));
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/only into a pipe or a file/);
  }, 120_000);

  it("two different passphrases at init: nothing is created (77)", async () => {
    const home = tempHome();
    const r = await runOnTty(["vault", "init", "--log-n", "15"], env(home), [
      { when: /New vault passphrase: /, send: "one" },
      { when: /Repeat it: /, send: "two" },
    ]);
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/The two passphrases differ; nothing was changed/);
    const list = await runOnTty(["vault", "list"], env(home));
    expect(list.output).toMatch(/No vault yet/);
  }, 120_000);
});
