/**
 * The store contract against an embedded libSQL store living in its own
 * thread (src/store/threaded.ts), which Node uses for member replicas: it
 * must behave exactly like the store it wraps, conflicts and errors included.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { openThreadedStore } from "../../src/store/threaded.js";
import { storeContract } from "./contract.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-threaded-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshUrl = () => `file:${path.join(dir, `db-${++counter}.db`)}`;

storeContract("libsql file in a thread", () => openThreadedStore({ url: freshUrl(), durability: "normal" }), {
  twins: async () => {
    const url = freshUrl();
    return [await openThreadedStore({ url, durability: "normal" }), await openThreadedStore({ url, durability: "normal" })];
  },
});

it("reports a database that cannot be opened", async () => {
  await expect(openThreadedStore({ url: `file:${path.join(dir, "missing", "dir", "x.db")}` })).rejects.toThrow();
});
