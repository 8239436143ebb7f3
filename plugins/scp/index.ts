/**
 * The scp plugin: `opsterm scp`, `put` and `get`, and the "files" service ({ put, get }) that the
 * agent and workflows use. Every transfer is one remote action through the orchestrator.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { scpCommands } from "./commands.ts";
import type { FilesService } from "./types.ts";

const files: FilesService = {
  async put(ctx, request) {
    const { putFile } = await import("./transfer.ts");
    return putFile(ctx, request);
  },
  async get(ctx, request) {
    const { getFile } = await import("./transfer.ts");
    return getFile(ctx, request);
  },
};

export default definePlugin({
  name: "scp",
  apiVersion: 1,
  description: "File transfer over SFTP: scp, put, get",
  commands: scpCommands,
  setup(ctx) {
    ctx.provide("files", files);
  },
});
