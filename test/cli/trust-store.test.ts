/**
 * The user's trust store on disk: an origin is a file name that cannot
 * leave the store's directory, whatever characters a log's name may hold,
 * and what is read back is what was pinned.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_V1, parseTrust, sha256, trustFingerprint, utf8 } from "../../src/core/index.js";
import type { Io } from "../../src/runtime/cli/common.js";
import { listPinned, pin, pinnedTrust, trustStoreDir, unpin } from "../../src/runtime/cli/trust-store.js";

function trustFor(origin: string) {
  return parseTrust({
    version: "cairn-trust/v1",
    origin,
    operatorKeys: [generateKeyPair(origin, sha256(utf8(`op ${origin}`))).verifierKey],
    members: ["m1.example", "m2.example"].map((name) => ({ name, key: generateKeyPair(name, sha256(utf8(`${name} ${origin}`)), KEY_TYPE_COSIGNATURE_V1).verifierKey })),
    quorum: 2,
  });
}

describe("trust store", () => {
  it("keeps an origin with dots and slashes (../ included) inside its directory, and reads back what was pinned", async () => {
    const home = mkdtempSync(join(tmpdir(), "cairn-trust-store-"));
    const io: Io = { cwd: home, env: { XDG_CONFIG_HOME: join(home, "config") }, out() {}, err() {} };
    const origins = ["../../escape.example/log", "registry.example/land/2026", "..."];
    for (const origin of origins) await pin(io, trustFor(origin));
    expect(readdirSync(trustStoreDir(io)).sort()).toHaveLength(origins.length);
    expect(readdirSync(join(home, "config"))).toEqual(["cairn"]); // nothing written beside the store
    for (const origin of origins) {
      const p = await pinnedTrust(io, origin);
      expect(p?.trust).toEqual(trustFor(origin));
      expect(p?.fingerprint).toBe(trustFingerprint(trustFor(origin)));
      expect(p?.path.startsWith(trustStoreDir(io) + "/")).toBe(true);
    }
    expect((await listPinned(io)).map((p) => p.trust.origin).sort()).toEqual([...origins].sort());
    expect(await unpin(io, origins[0]!)).toBe(true);
    expect(await pinnedTrust(io, origins[0]!)).toBeUndefined();
    expect(await unpin(io, origins[0]!)).toBe(false);
  });

  it("the fingerprint ignores spacing and field order, and changes with any fact", () => {
    const t = trustFor("a.example/log");
    const reordered = JSON.parse(JSON.stringify({ quorum: t.quorum, members: t.members, operatorKeys: t.operatorKeys, origin: t.origin, version: t.version }));
    expect(trustFingerprint(JSON.stringify(reordered, null, 4))).toBe(trustFingerprint(t));
    expect(trustFingerprint({ ...t, quorum: 1 })).not.toBe(trustFingerprint(t));
  });
});
