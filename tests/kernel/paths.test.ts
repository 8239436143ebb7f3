import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolvePaths } from "../../src/kernel/paths.ts";
import { tempDir } from "../helpers/run-cli.ts";

describe("resolvePaths()", () => {
  const home = "/home/ann";

  it.each([
    { name: "OPSTERM_HOME wins over XDG", env: { HOME: home, OPSTERM_HOME: "/srv/ops", XDG_CONFIG_HOME: "/x/c", XDG_DATA_HOME: "/x/d" }, configDir: "/srv/ops", dataDir: "/srv/ops" },
    { name: "XDG dirs when set", env: { HOME: home, XDG_CONFIG_HOME: "/x/c", XDG_DATA_HOME: "/x/d" }, configDir: "/x/c/opsterm", dataDir: "/x/d/opsterm" },
    { name: "XDG defaults under HOME", env: { HOME: home }, configDir: "/home/ann/.config/opsterm", dataDir: "/home/ann/.local/share/opsterm" },
    { name: "empty XDG values count as unset", env: { HOME: home, XDG_CONFIG_HOME: "", XDG_DATA_HOME: "" }, configDir: "/home/ann/.config/opsterm", dataDir: "/home/ann/.local/share/opsterm" },
  ])("$name", ({ env, configDir, dataDir }) => {
    expect(resolvePaths(env, "/")).toMatchObject({ configDir, dataDir });
  });

  it("resolves a relative OPSTERM_HOME against the cwd", () => {
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "state" }, "/work/proj").configDir).toBe("/work/proj/state");
  });

  it("finds the workspace .opsterm/ by walking up from the cwd, but not a file of that name", () => {
    const root = tempDir("ws-");
    mkdirSync(join(root, ".opsterm"));
    mkdirSync(join(root, "a", "b"), { recursive: true });
    writeFileSync(join(root, "a", ".opsterm"), "a file, not a workspace");
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "/elsewhere" }, join(root, "a", "b")).workspace?.dir).toBe(join(root, ".opsterm"));
  });

  it("does not take the global dir for a workspace when OPSTERM_HOME is itself a .opsterm folder", () => {
    const root = tempDir("ws-");
    mkdirSync(join(root, ".opsterm"));
    const paths = resolvePaths({ HOME: root, OPSTERM_HOME: join(root, ".opsterm") }, join(root));
    expect(paths.configDir).toBe(join(root, ".opsterm"));
    expect(paths.workspace).toBeUndefined();
  });

  it("never takes $HOME/.opsterm (the original OpsTerm's global folder) for a workspace, and keeps looking above it", () => {
    const root = tempDir("ws-");
    const home = join(root, "home", "ann");
    mkdirSync(join(home, ".opsterm"), { recursive: true });
    mkdirSync(join(home, "src", "app"), { recursive: true });
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "/elsewhere" }, join(home, "src", "app")).workspace).toBeUndefined();
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "/elsewhere" }, home).workspace).toBeUndefined();
    mkdirSync(join(root, ".opsterm"));
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "/elsewhere" }, join(home, "src")).workspace?.dir).toBe(join(root, ".opsterm"));
    mkdirSync(join(home, "src", "app", ".opsterm"));
    expect(resolvePaths({ HOME: home, OPSTERM_HOME: "/elsewhere" }, join(home, "src", "app")).workspace?.dir).toBe(join(home, "src", "app", ".opsterm"));
  });
});
