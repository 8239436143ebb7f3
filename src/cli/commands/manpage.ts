import { defineCommand } from "../../kernel/commands.ts";

/** `opsterm __manpage`: prints opsterm(1) in roff; build.ts writes it to dist/opsterm.1. */
export const manpageCommand = defineCommand({
  name: "__manpage",
  description: "Print the man page (roff), generated from the commands",
  hidden: true,
  async action(_args, ctx) {
    const { manPage } = await import("../manpage.ts");
    ctx.io.stdout.write(manPage(ctx.registry, ctx.kernel.version));
    return 0;
  },
});
