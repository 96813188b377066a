/**
 * The server side of the service benchmark, run in its own process so the
 * load generator does not share its core: Cairn's embedded default (three
 * member replicas, FULL durability, the default seal interval) from a fresh
 * data directory, plus a bare Hono app doing the same JSON round trip with no
 * work, for comparison. Prints one JSON line with the URLs, then serves until
 * killed.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { startNode } from "../src/runtime/node.js";
import { silentLogger } from "../src/service/log.js";

const dataDir = process.argv[2]!;
const node = await startNode({ env: { CAIRN_DATA_DIR: dataDir, CAIRN_SEAL_INTERVAL: process.env.CAIRN_SEAL_INTERVAL, CAIRN_CLIENT_RATE: "0" }, port: 0, log: silentLogger, ...(process.env.BENCH_DURABILITY === "normal" ? { durability: "normal" as const } : {}) });

const bare = new Hono();
bare.post("/bare", async (c) => c.json({ got: ((await c.req.json()) as { submission: string }).submission.length }, 202));
const server = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => server.once("listening", r));

console.log(JSON.stringify({ url: node.url, bareUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dataDir }));
// Exit cleanly on SIGTERM so `node --cpu-prof` can write its profile.
process.once("SIGTERM", () => process.exit(0));
