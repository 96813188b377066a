/**
 * The `cairn` CLI end to end, against real parts: the Node server started
 * in-process on a temporary embedded-default data dir (dev keys, three member
 * replicas, a seal every 200 ms), and the CLI run as a child process through
 * bin/cairn.js, exactly as a user runs it.
 */
import fs from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseSignerKey, parseVerifierKey } from "../../src/core/keys.js";
import { sha256 } from "../../src/core/hash.js";
import { fromBase64, utf8 } from "../../src/core/bytes.js";
import { saltedDigest } from "../../src/core/receipt.js";
import { trustFingerprint } from "../../src/core/trust.js";
import { ReceiptVerifier } from "../../src/core/verify-receipt.js";
import { startNode, type RunningNode } from "../../src/runtime/node.js";
import { silentLogger } from "../../src/service/log.js";
import { cairnRunner } from "./run-cairn.js";


let root: string;
let dataDir: string;
let node: RunningNode;

/** Runs `node bin/cairn.js …` in `cwd` with the server and data dir of this suite. */
const cairn = cairnRunner(
  () => root,
  () => ({ CAIRN_SERVER: node.url, CAIRN_DATA_DIR: dataDir }),
);

function workDir(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-cli-"));
  dataDir = path.join(root, "data");
  node = await startNode({
    env: { CAIRN_DATA_DIR: dataDir, PORT: "0", CAIRN_SEAL_INTERVAL: "200ms" },
    port: 0,
    sealTimer: true,
    durability: "normal",
    log: silentLogger,
  });
});

afterAll(async () => {
  await node?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("cairn CLI", () => {
  it("prints help for the tool and for each command", async () => {
    const top = await cairn(["--help"]);
    expect(top.code).toBe(0);
    for (const command of ["keygen", "anchor", "receipt", "verify", "audit"]) expect(top.stdout).toContain(command);
    const anchor = await cairn(["anchor", "--help"]);
    expect(anchor.code).toBe(0);
    expect(anchor.stdout).toMatch(/^Usage: cairn anchor FILE/);
    const unknown = await cairn(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it("anchors a file with --wait, writes a receipt that verifies offline, and rejects a modified file", async () => {
    const cwd = workDir("one");
    fs.writeFileSync(path.join(cwd, "deed.txt"), "Parcel 17 passes to A. Smith.\n");

    const anchored = await cairn(["anchor", "deed.txt", "--wait"], { cwd });
    expect(anchored.stderr).not.toContain("error");
    expect(anchored.code).toBe(0);
    const [submitted, sealed] = anchored.stdout.trim().split("\n");
    expect(submitted).toMatch(/^[0-9a-f]{64} {2}pending {2}deed\.txt$/);
    expect(sealed).toMatch(/^[0-9a-f]{64} {2}sealed in block \d+ at .*Z, receipt verified → \.\/deed\.txt\.cairn\.json$/);
    expect(anchored.stderr).toContain("the embedded default's dev trust");
    expect(fs.existsSync(path.join(cwd, "cairn-trust.json"))).toBe(false); // nothing pinned behind the user's back

    // FILE.cairn.json is exactly a cairn-receipt/v1; the dev trust is the one npm start wrote into its data dir.
    const receipt = JSON.parse(fs.readFileSync(path.join(cwd, "deed.txt.cairn.json"), "utf8"));
    expect(receipt.version).toBe("cairn-receipt/v1");
    expect(Object.keys(receipt).sort()).toEqual(["block", "checkpoint", "client", "entry", "history", "inclusion", "version"]);
    const trust = JSON.parse(fs.readFileSync(path.join(dataDir, "trust.json"), "utf8"));
    expect(trust).toEqual((await node.services.keys.trust()));

    const verified = await cairn(["verify", "deed.txt", "deed.txt.cairn.json"], { cwd });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toBe(""); // pinned trust: no warning
    for (const step of ["receipt", "digest", "entry-signature", "inclusion", "history", "checkpoint-signature", "cosignatures", "time"]) {
      expect(verified.stdout).toMatch(new RegExp(`✓ ${step} `));
    }
    expect(verified.stdout).toMatch(/proven: +the document existed by \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, when a quorum of members had cosigned/);
    expect(verified.stdout).toMatch(/block: +\d+/);
    expect(verified.stdout).toMatch(/sealed at: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(verified.stdout).toContain("member-1.localhost");

    fs.appendFileSync(path.join(cwd, "deed.txt"), "And the barn.\n");
    const tampered = await cairn(["verify", "deed.txt", "deed.txt.cairn.json"], { cwd });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain("✓ receipt");
    expect(tampered.stdout).toMatch(/✗ digest +DIGEST_MISMATCH/);
    expect(tampered.stdout).toContain("FAILED: DIGEST_MISMATCH at step digest");
  });

  it("remembers the checkpoints it verified, proves a later one consistent with --online, and monitor finds the deployment consistent", async () => {
    const cwd = workDir("views");
    const state = path.join(root, "views-state");
    const env = { XDG_STATE_HOME: state };
    fs.writeFileSync(path.join(cwd, "first.txt"), `first ${Math.random()}\n`);
    expect((await cairn(["anchor", "first.txt", "--wait"], { cwd, env })).code).toBe(0);
    fs.writeFileSync(path.join(cwd, "second.txt"), `second ${Math.random()}\n`);
    expect((await cairn(["anchor", "second.txt", "--wait"], { cwd, env })).code).toBe(0);

    // anchor --wait remembered both receipts' checkpoints (proving the second with the server's proof).
    const first = await cairn(["verify", "first.txt", "first.txt.cairn.json"], { cwd, env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/views: +a checkpoint of \d+ blocks seen before/);
    const second = await cairn(["verify", "second.txt", "second.txt.cairn.json", "--online"], { cwd, env });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/views: +a checkpoint of \d+ blocks seen before/);
    const memory = JSON.parse(fs.readFileSync(path.join(state, "cairn", "checkpoints", "cairn%2Elocalhost%2Fdev.json"), "utf8"));
    expect(memory.checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(memory.checkpoints.every((c: { proven: boolean }) => c.proven)).toBe(true);

    // The operator and its three witness processes, as a member's monitor sees them.
    const watched = await cairn(["monitor", "--once"], { cwd, env });
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toMatch(/consistent: operator \d+, witness member-1\.localhost \d+, witness member-2\.localhost \d+, witness member-3\.localhost \d+/);
    expect(watched.stdout).toBe("");
  });

  it("anchor --salted: the server never receives the document's digest; the v2 receipt verifies offline with the document alone", async () => {
    const cwd = workDir("salted");
    const text = `licence 2026-00${Math.floor(Math.random() * 90) + 10}\n`;
    fs.writeFileSync(path.join(cwd, "licence.txt"), text);
    expect((await cairn(["anchor", "licence.txt", "--salted"], { cwd })).code).toBe(2); // the salt needs a receipt to live in
    const run = await cairn(["anchor", "licence.txt", "--salted", "--wait"], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("receipt verified, salted");
    const receipt = JSON.parse(fs.readFileSync(path.join(cwd, "licence.txt.cairn.json"), "utf8"));
    expect(receipt.version).toBe("cairn-receipt/v2");
    const digest = Buffer.from(sha256(utf8(text))).toString("hex");
    // Even the client that anchored it finds nothing by the document (cairn lookup signs with the dev
    // client key, no flags); the commitment is what was anchored. A stranger is refused outright.
    const byDocument = await cairn(["lookup", "licence.txt"], { cwd });
    expect(byDocument.code, byDocument.stderr).toBe(4);
    expect(byDocument.stderr).toContain("no anchor of");
    const commitment = Buffer.from(saltedDigest(fromBase64(receipt.salt, 32), sha256(utf8(text)))).toString("hex");
    const byCommitment = await cairn(["lookup", "--digest", commitment], { cwd });
    expect(byCommitment.code, byCommitment.stderr).toBe(0);
    expect(byCommitment.stdout).toMatch(new RegExp(`^[0-9a-f]{64}  sealed  block \\d+ index \\d+  received \\S+Z  ${commitment}\n$`));
    expect((await fetch(`${node.url}/v1/digests/${commitment}`)).status).toBe(401);
    expect(receipt.entry).not.toContain(digest);
    const verified = await cairn(["verify", "licence.txt", "licence.txt.cairn.json"], { cwd });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/salted: +yes/);
    fs.writeFileSync(path.join(cwd, "guess.txt"), "licence 2026-0001\n");
    expect((await cairn(["verify", "guess.txt", "licence.txt.cairn.json"], { cwd })).code).toBe(1);
  });

  it("lookup: finds the dev client's own anchors of a document with no flags, signing the request with its key", async () => {
    const cwd = workDir("lookup");
    fs.writeFileSync(path.join(cwd, "permit.txt"), "Building permit 88/2026.\n");
    fs.writeFileSync(path.join(cwd, "never.txt"), "Never anchored.\n");
    const anchored = await cairn(["anchor", "permit.txt", "--wait"], { cwd });
    expect(anchored.code, anchored.stderr).toBe(0);
    const id = anchored.stdout.split("  ")[0]!;
    const found = await cairn(["lookup", "permit.txt"], { cwd });
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(new RegExp(`^${id}  sealed  block \\d+ index \\d+  received \\S+Z  permit\\.txt\n$`));
    const both = await cairn(["lookup", "permit.txt", "never.txt"], { cwd });
    expect(both.code).toBe(4);
    expect(both.stdout).toContain(id);
    expect(both.stderr).toContain("never.txt: no anchor of");
    // Another client's key (registered, not the one that anchored) finds nothing: the server filters by signer.
    const other = generateKeyPair("other-cli.test", sha256(utf8("other cli client")), KEY_TYPE_ED25519);
    const token = fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
    const reg = await fetch(`${node.url}/v1/admin/clients`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ key: other.verifierKey }) });
    expect(reg.status).toBe(201);
    fs.writeFileSync(path.join(cwd, "other.key"), other.signerKey + "\n");
    const asOther = await cairn(["lookup", "permit.txt", "--key", "other.key"], { cwd });
    expect(asOther.code).toBe(4);
    expect(asOther.stdout).toBe("");
  });

  it("anchors 25 files with progress on stderr, and every receipt verifies", async () => {
    const cwd = workDir("many");
    const files = Array.from({ length: 25 }, (_, i) => `doc-${String(i).padStart(2, "0")}.txt`);
    for (const f of files) fs.writeFileSync(path.join(cwd, f), `document ${f} ${Math.random()}\n`);

    const run = await cairn(["anchor", ...files, "--wait"], { cwd });
    expect(run.stderr).not.toContain("error");
    expect(run.code).toBe(0);
    // Not a TTY: plain progress lines, ending with the totals.
    expect(run.stderr).toMatch(/^hashing: 25\/25 \(/m);
    expect(run.stderr).toMatch(/^submitting: 25\/25 \(/m);
    expect(run.stderr).toMatch(/^receipts: 25\/25 \(/m);
    const lines = run.stdout.trim().split("\n");
    expect(lines.filter((l) => / {2}pending {2}doc-/.test(l) || / {2}sealed {2}doc-/.test(l))).toHaveLength(25);
    expect(lines.filter((l) => l.includes("receipt verified"))).toHaveLength(25);

    const verifier = new ReceiptVerifier(JSON.parse(fs.readFileSync(path.join(dataDir, "trust.json"), "utf8")));
    for (const f of files) {
      const receipt = fs.readFileSync(path.join(cwd, `${f}.cairn.json`), "utf8");
      await verifier.verify(receipt, { document: fs.readFileSync(path.join(cwd, f)) });
    }
    const one = await cairn(["verify", files[24]!, `${files[24]}.cairn.json`], { cwd });
    expect(one.code).toBe(0);
  });

  it("anchors a bare digest into HEX.cairn.json and verifies it with --digest", async () => {
    const cwd = workDir("digest");
    const digest = "5e".repeat(32);
    const run = await cairn(["anchor", "--digest", digest.toUpperCase(), "--wait"], { cwd });
    expect(run.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, `${digest}.cairn.json`))).toBe(true);
    const ok = await cairn(["verify", "--digest", digest, `${digest}.cairn.json`], { cwd });
    expect(ok.code).toBe(0);
    const wrong = await cairn(["verify", "--digest", "00".repeat(32), `${digest}.cairn.json`], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("DIGEST_MISMATCH");
    // The receipt alone is an explicit mode, said out loud; never a silent skip.
    const alone = await cairn(["verify", "--no-document", `${digest}.cairn.json`], { cwd });
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain("NO DOCUMENT WAS CHECKED");
    expect(alone.stdout).toContain(`NOT CHECKED`);
    const both = await cairn(["verify", "--no-document", "--digest", digest, `${digest}.cairn.json`], { cwd });
    expect(both.code).toBe(2);
  });

  it("trust: pins a document by origin with its fingerprint; verify prefers it to a trust file lying beside the receipt", async () => {
    const cwd = workDir("pinning");
    fs.writeFileSync(path.join(cwd, "lease.txt"), "a lease\n");
    expect((await cairn(["anchor", "lease.txt", "--wait"], { cwd })).code).toBe(0);
    const genuine = (await node.services.keys.trust());
    const fingerprint = trustFingerprint(genuine);
    fs.writeFileSync(path.join(cwd, "genuine-trust.json"), JSON.stringify(genuine));

    // A wrong fingerprint pins nothing; the right one pins the server's document.
    const wrong = await cairn(["trust", "add", "--from", node.url, "--fingerprint", "ab".repeat(32)], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`has fingerprint ${fingerprint}`);
    expect(wrong.stderr).toContain("not pinned");
    expect((await cairn(["trust", "add", "--from", node.url], { cwd })).code).toBe(2);
    const fromUrl = await cairn(["trust", "add", "--from", node.url, "--fingerprint", fingerprint.toUpperCase()], { cwd });
    expect(fromUrl.code).toBe(0);
    expect(fromUrl.stdout).toContain(`fingerprint ${fingerprint}`);
    const added = await cairn(["trust", "add", "genuine-trust.json"], { cwd });
    expect(added.stdout).toContain(`Pinned ${genuine.origin}`);
    expect((await cairn(["trust", "list"], { cwd })).stdout).toContain(`${genuine.origin}  ${fingerprint}`);

    // An attacker's trust file beside the receipt (same origin and member names, its own keys) is not what verify uses.
    const attacker = { ...genuine, operatorKeys: [generateKeyPair(genuine.origin, sha256(utf8("attacker"))).verifierKey], members: genuine.members.map((m, i) => ({ name: m.name, key: generateKeyPair(m.name, sha256(utf8(`attacker ${i}`)), KEY_TYPE_COSIGNATURE_V1).verifierKey })) };
    fs.writeFileSync(path.join(cwd, "cairn-trust.json"), JSON.stringify(attacker));
    const verified = await cairn(["verify", "lease.txt", "lease.txt.cairn.json"], { cwd });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`Trust: pinned for ${genuine.origin}`);
    expect(verified.stdout).toContain(`fingerprint ${fingerprint}`);

    // A hollow document is refused with its code; nothing is pinned for it.
    fs.writeFileSync(path.join(cwd, "hollow.json"), JSON.stringify({ ...genuine, origin: "hollow.example/log", operatorKeys: [generateKeyPair("hollow.example/log", sha256(utf8("h"))).verifierKey], members: [], quorum: 0 }));
    const hollow = await cairn(["trust", "add", "hollow.json"], { cwd });
    expect(hollow.code).toBe(1);
    expect(hollow.stderr).toContain("lists no members");
    expect((await cairn(["trust", "list"], { cwd })).stdout).not.toContain("hollow.example");

    expect((await cairn(["trust", "remove", genuine.origin], { cwd })).code).toBe(0);
    expect((await cairn(["trust", "remove", genuine.origin], { cwd })).code).toBe(1);
    expect((await cairn(["trust", "list"], { cwd })).stdout).toBe("");
  });

  it("with no trust pinned for a log, verify refuses (never a trust file beside the receipt, never the server's) and anchor --wait pins nothing", async () => {
    const cwd = workDir("unpinned");
    const elsewhere = path.join(root, "no-dev-data"); // a data dir without npm start's dev trust
    fs.mkdirSync(elsewhere, { recursive: true });
    const env = { CAIRN_DATA_DIR: elsewhere, CAIRN_CLIENT_KEY: path.join(dataDir, "client.key") };
    fs.writeFileSync(path.join(cwd, "will.txt"), "a will\n");
    const anchored = await cairn(["anchor", "will.txt", "--wait"], { cwd, env });
    expect(anchored.code).toBe(0);
    expect(anchored.stdout).toContain("checked against the server's own trust only (none pinned)");
    expect(anchored.stderr).toContain(`no trust document is pinned for ${node.services.ctx.config.origin}`);
    expect(anchored.stderr).toContain(`fingerprint ${trustFingerprint((await node.services.keys.trust()))}`);
    expect(fs.readdirSync(cwd).sort()).toEqual(["will.txt", "will.txt.cairn.json"]);

    // A forged trust file beside the receipt, and a server that would hand out anything: neither is consulted.
    fs.writeFileSync(path.join(cwd, "cairn-trust.json"), JSON.stringify((await node.services.keys.trust())));
    const refused = await cairn(["verify", "will.txt", "will.txt.cairn.json"], { cwd, env: { ...env, CAIRN_SERVER: "http://127.0.0.1:9" } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no trust document is pinned for ${node.services.ctx.config.origin}`);
    expect(refused.stderr).toContain("cairn trust add");
    expect(refused.stdout).not.toContain("OK");
    // Named explicitly, a file is used, and said so.
    const explicit = await cairn(["verify", "will.txt", "will.txt.cairn.json", "--trust", "cairn-trust.json"], { cwd, env });
    expect(explicit.code).toBe(0);
    expect(explicit.stdout).toContain("(--trust)");
    expect((await cairn(["verify", "--server", node.url, "will.txt", "will.txt.cairn.json"], { cwd, env })).code).toBe(2);
  });

  it("keygen writes a 0600 signer key and prints the verifier key; a registered key anchors", async () => {
    const cwd = workDir("keys");
    const run = await cairn(["keygen", "app.example/billing"], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^app\.example\/billing\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*\n$/);
    const vkey = parseVerifierKey(run.stdout.trim());
    expect(vkey.type).toBe(KEY_TYPE_ED25519);
    expect(run.stderr).toContain("POST /v1/admin/clients");
    const keyFile = path.join(cwd, "app.example-billing.key");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const skey = parseSignerKey(fs.readFileSync(keyFile, "utf8").trim());
    expect(Buffer.from(skey.publicKey).equals(Buffer.from(vkey.publicKey))).toBe(true);

    const again = await cairn(["keygen", "app.example/billing"], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");

    const cosigner = await cairn(["keygen", "--cosigner", "member-9.example", "--out", "m9.key"], { cwd });
    expect(cosigner.code).toBe(0);
    expect(parseVerifierKey(cosigner.stdout.trim()).type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expect(parseSignerKey(fs.readFileSync(path.join(cwd, "m9.key"), "utf8").trim()).type).toBe(KEY_TYPE_COSIGNATURE_V1);

    // Unregistered: the server's refusal is shown with its code and a hint.
    fs.writeFileSync(path.join(cwd, "memo.txt"), "memo\n");
    const refused = await cairn(["anchor", "memo.txt", "--key", "app.example-billing.key"], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("UNKNOWN_CLIENT");

    const token = fs.readFileSync(node.dev!.adminTokenFile, "utf8").trim();
    const registered = await fetch(`${node.url}/v1/admin/clients`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ key: vkey.text }),
    });
    expect(registered.status).toBe(201);
    const anchored = await cairn(["anchor", "memo.txt", "--wait"], { cwd, env: { CAIRN_CLIENT_KEY: "app.example-billing.key" } });
    expect(anchored.code).toBe(0);
    const pinned = await cairn(["verify", "memo.txt", "memo.txt.cairn.json", "--client-key", vkey.text], { cwd });
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain("signed by app.example/billing (pinned key)");
    const otherClient = await cairn(["verify", "memo.txt", "memo.txt.cairn.json", "--client-key", node.dev!.clientVerifierKey], { cwd });
    expect(otherClient.code).toBe(1);
    expect(otherClient.stdout).toMatch(/✗ entry-signature +ENTRY_SIGNATURE_INVALID/);
  });

  it("receipt: prints a known receipt, exits 4 for an unknown id and 2 for a malformed one", async () => {
    const cwd = workDir("receipt");
    const receipt = JSON.parse(fs.readFileSync(path.join(root, "one", "deed.txt.cairn.json"), "utf8"));
    const { leafHash } = await import("../../src/core/merkle.js");
    const id = Buffer.from(leafHash(new TextEncoder().encode(receipt.entry))).toString("hex");
    const known = await cairn(["receipt", id, "--out", "r.json"], { cwd });
    expect(known.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(cwd, "r.json"), "utf8")).entry).toBe(receipt.entry);

    const unknown = await cairn(["receipt", "ab".repeat(32)], { cwd });
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain("knows no anchor");
    expect((await cairn(["receipt", "nope"], { cwd })).code).toBe(2);
  });

  it("says which server it cannot reach and how to start one; says how to make a missing key", async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const cwd = workDir("errors");
    fs.writeFileSync(path.join(cwd, "a.txt"), "a\n");
    const down = await cairn(["anchor", "a.txt"], { cwd, env: { CAIRN_SERVER: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(down.stderr).toContain("npm start");
    expect(fs.readdirSync(cwd)).toEqual(["a.txt"]); // nothing written without a receipt

    const noKey = await cairn(["anchor", "a.txt"], { cwd, env: { CAIRN_DATA_DIR: path.join(cwd, "nowhere") } });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("no client key at");
    expect(noKey.stderr).toContain("cairn keygen");
  });

  it("audits the data dir, then finds the block of a tampered member replica", async () => {
    await node.sealer.idle();
    const clean = await cairn(["audit"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout.match(/^✓ /gm)).toHaveLength(4); // primary + three witnesses' replicas
    expect(clean.stdout).toContain("All 4 databases are sound.");

    const member = path.join(dataDir, "members", "member-2.localhost", "replica.db");
    const db = createClient({ url: pathToFileURL(member).href });
    const found = (await db.execute("SELECT rowid, height, entry FROM entries ORDER BY height DESC, idx LIMIT 1")).rows[0]!;
    const row = { rowid: Number(found.rowid), height: Number(found.height), entry: String(found.entry) };
    const forged = row.entry.replace(/\n(\d+)\n\n/, (_m, t: string) => `\n${Number(t) + 1}\n\n`);
    expect(forged).not.toBe(row.entry);
    await db.execute({ sql: "UPDATE entries SET entry = ? WHERE rowid = ?", args: [forged, row.rowid] });
    db.close();

    const dirty = await cairn(["audit"]);
    expect(dirty.code).toBe(1);
    // The altered entry no longer hashes into the block's batch root.
    expect(dirty.stdout).toMatch(new RegExp(`member-2\\.localhost/replica\\.db: block ${row.height} is bad: .*batch root`));
    expect(dirty.stdout).toMatch(/✓ .*member-1\.localhost\/replica\.db/);
    expect(dirty.stdout).toContain("FAILED: 1 of 4 databases");

    const one = await cairn(["audit", member]);
    expect(one.code).toBe(1);
    expect(one.stdout).toContain(`block ${row.height} is bad`);
  });
});
