/**
 * The parts of the MCP SDK `opsterm mcp` uses: the low-level Server, the stdio transport and the
 * request schemas (deep imports: the package index would bring the HTTP transports and their web
 * frameworks). build.ts bundles this module on its own (dist/mcp-sdk.cjs, embedded in the binary
 * as an SEA asset) and loads it only when `opsterm mcp` starts, so no other command parses it.
 */
export { Server } from "@modelcontextprotocol/sdk/server/index.js";
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
export { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
