/**
 * Builds the worked examples of docs/FORMATS.md from fixed seeds with the
 * real code of src/core, and renders the document from its template. Used by
 * `npm run formats` (to write the files) and by test/core/formats.test.ts (to
 * fail when the files and the code disagree).
 */
import {
  blockHash,
  buildReceipt,
  consistencyProof,
  cosign,
  EMPTY_ROOT,
  entryId,
  formatBlockHeader,
  formatCheckpoint,
  generateKeyPair,
  inclusionProof,
  KEY_TYPE_COSIGNATURE_V1,
  leafHash,
  merkleRoot,
  noteSigner,
  parseSignerKey,
  sha256,
  signNote,
  signPromise,
  signSubmission,
  signClientRecord,
  signOperatorKeyRecord,
  signMemberKeyRecord,
  countersignKeyRecord,
  toBase64,
  toHex,
  utf8,
  type TrustV1,
  type TrustV2,
  trustFingerprint,
  saltedDigest,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  requestSigner,
  requestText,
  signRequest,
} from "../src/core/index.js";

export const ORIGIN = "cairn.example/log";
const MEMBERS = ["member-a.example/cosigner", "member-b.example/cosigner", "member-c.example/cosigner"];
const CLIENT = "registry.example/app";
const T0 = 1764000000;

function keyFor(label: string, name: string, type = 0x01) {
  return { label, ...generateKeyPair(name, sha256(utf8(label)), type) };
}

export interface FormatVectors {
  readonly source: string;
  readonly keys: { label: string; signerKey: string; verifierKey: string }[];
  readonly merkle: {
    leaves: string[];
    leafHashes: string[];
    root: string;
    inclusion: { index: number; size: number; path: string[] };
    consistency: { from: number; to: number; fromRoot: string; path: string[] };
    emptyRoot: string;
  };
  readonly submissions: { document: string; digest: string; entry: string; id: string }[];
  readonly clientRecord: { entry: string; id: string };
  /** Key records (FORMATS §4): the operator's rotation of the v2 trust example, and member B's. */
  readonly keyRecords: { operator: { entry: string; id: string }; member: { entry: string; id: string } };
  readonly promise: { note: string };
  readonly blocks: { header: string; hash: string }[];
  readonly checkpoint: { note: string; historyRoot: string };
  readonly trust: TrustV1;
  /** A salted commitment: FORMATS §9. */
  readonly salted: { document: string; documentDigest: string; salt: string; commitment: string };
  /** The same consortium after rotations, as a v2 document, and both fingerprints. */
  readonly trustV2: { document: TrustV2; fingerprint: string; fingerprintV1: string };
  readonly receipt: ReturnType<typeof buildReceipt>;
  /** Signed requests (FORMATS §10): a client's digest lookup and member A's read of block 0's entries. */
  readonly signedRequests: { signer: string; method: string; target: string; time: number; text: string; authorization: string }[];
}

export async function buildVectors(): Promise<FormatVectors> {
  const operator = keyFor("cairn vector operator", ORIGIN);
  const members = MEMBERS.map((name, i) => keyFor(`cairn vector member ${i}`, name, KEY_TYPE_COSIGNATURE_V1));
  const client = keyFor("cairn vector client", CLIENT);
  const clientSigner = noteSigner(client.signerKey);

  // Merkle: three leaves "a", "b", "c".
  const leaves = ["a", "b", "c"];
  const leafHashes = leaves.map((l) => leafHash(utf8(l)));

  // Three submissions; the third names the first as its previous version.
  const documents = ["deed 1944/17, page 1\n", "licence 2026-0042\n", "deed 1944/17, page 1 (amended)\n"];
  const submissions: FormatVectors["submissions"] = [];
  for (const [i, document] of documents.entries()) {
    const digest = sha256(utf8(document));
    const prev = i === 2 ? leafHash(utf8(submissions[0]!.entry)) : undefined;
    const entry = await signSubmission({ origin: ORIGIN, digest, time: T0 + i, ...(prev ? { prev } : {}) }, clientSigner);
    submissions.push({ document, digest: toHex(digest), entry, id: entryId(entry) });
  }

  const promiseNote = await signPromise(
    { origin: ORIGIN, id: submissions[0]!.id, receivedAt: T0 + 1, deadline: T0 + 1 + 60 },
    noteSigner(operator.signerKey),
  );

  // The client's registration, a chain record signed by the operator, comes
  // before its first submission: block 0 holds it and the first two
  // submissions, block 1 the third.
  const record = await signClientRecord({ origin: ORIGIN, action: "register", key: client.verifierKey, time: T0 - 10 }, noteSigner(operator.signerKey));
  const clientRecord = { entry: record, id: entryId(record) };
  const batches = [[clientRecord, ...submissions.slice(0, 2)], submissions.slice(2)];
  const blocks: FormatVectors["blocks"] = [];
  let prevHash: Uint8Array = new Uint8Array(32);
  for (const [height, batch] of batches.entries()) {
    const root = merkleRoot(batch.map((s) => leafHash(utf8(s.entry))));
    const header = formatBlockHeader({ origin: ORIGIN, height, prevHash, size: batch.length, root, sealedAt: T0 + 5 + height * 5 });
    prevHash = blockHash(header);
    blocks.push({ header, hash: toHex(prevHash) });
  }

  const historyLeaves = blocks.map((b) => blockHash(b.header));
  const historyRoot = merkleRoot(historyLeaves);
  let checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, size: blocks.length, root: historyRoot }), [
    noteSigner(operator.signerKey),
  ]);
  for (const [i, m] of members.slice(0, 2).entries()) {
    checkpoint = await cosign(checkpoint, parseSignerKey(m.signerKey).seed, MEMBERS[i]!, T0 + 12);
  }

  const trust: TrustV1 = {
    version: "cairn-trust/v1",
    origin: ORIGIN,
    operatorKeys: [operator.verifierKey],
    members: members.map((m, i) => ({ name: MEMBERS[i]!, key: m.verifierKey })),
    quorum: 2,
  };

  // After the examples, the operator rotates its key and member A adds an
  // ML-DSA-44 cosigner key: the old key signs checkpoints up to 2 blocks,
  // the new one from 3 on; the receipt below (2 blocks) verifies under both.
  const operator2 = keyFor("cairn vector operator, second key", ORIGIN);
  const memberPq = keyFor("cairn vector member 0, ML-DSA-44", MEMBERS[0]!, KEY_TYPE_COSIGNATURE_MLDSA44);
  const trustV2: TrustV2 = {
    version: "cairn-trust/v2",
    origin: ORIGIN,
    operatorKeys: [
      { key: operator.verifierKey, from: 0, until: 2 },
      { key: operator2.verifierKey, from: 3 },
    ],
    members: members.map((m, i) => ({ name: MEMBERS[i]!, keys: [{ key: m.verifierKey, from: 0 }, ...(i === 0 ? [{ key: memberPq.verifierKey, from: 3 }] : [])] })),
    quorum: 2,
    pqQuorum: 0,
  };

  // The records behind that schedule, had the first sealed in block 1; and
  // member B moving to a new cosigner key, countersigned by the new operator key.
  const operatorRecord = await signOperatorKeyRecord({ origin: ORIGIN, role: "operator", old: operator.verifierKey, new: operator2.verifierKey, time: T0 + 8 }, noteSigner(operator.signerKey), noteSigner(operator2.signerKey));
  const memberB2 = keyFor("cairn vector member 1, second key", MEMBERS[1]!, KEY_TYPE_COSIGNATURE_V1);
  const memberHalf = await signMemberKeyRecord(
    { origin: ORIGIN, role: "member", old: members[1]!.verifierKey, new: memberB2.verifierKey, time: T0 + 20 },
    parseSignerKey(members[1]!.signerKey).seed,
    parseSignerKey(memberB2.signerKey).seed,
  );
  const memberRecord = await countersignKeyRecord(memberHalf, noteSigner(operator2.signerKey));

  const batch0 = batches[0]!.map((s) => leafHash(utf8(s.entry)));
  const receipt = buildReceipt({
    entry: submissions[0]!.entry,
    block: blocks[0]!.header,
    inclusion: { index: 1, size: batch0.length, path: inclusionProof(batch0, 1) },
    history: { index: 0, size: blocks.length, path: inclusionProof(historyLeaves, 0) },
    checkpoint,
    client: client.verifierKey,
  });

  const signedRequests: FormatVectors["signedRequests"] = [];
  for (const [key, target] of [
    [client, `/v1/digests/${submissions[1]!.digest}`],
    [members[0]!, "/v1/blocks/0/entries?offset=0&limit=1000"],
  ] as const) {
    const signer = requestSigner(parseSignerKey(key.signerKey));
    const facts = { origin: ORIGIN, method: "GET", target, time: T0 + 20 };
    signedRequests.push({ signer: key.label, ...facts, text: requestText(facts, signer), authorization: await signRequest(facts, signer) });
  }

  return {
    source: "generated by scripts/gen-formats.ts with src/core from the fixed seeds named in each key's label (seed = SHA-256(label))",
    keys: [operator, ...members, client, operator2, memberPq, memberB2],
    merkle: {
      leaves,
      leafHashes: leafHashes.map(toHex),
      root: toHex(merkleRoot(leafHashes)),
      inclusion: { index: 1, size: 3, path: inclusionProof(leafHashes, 1).map(toBase64) },
      consistency: { from: 2, to: 3, fromRoot: toHex(merkleRoot(leafHashes.slice(0, 2))), path: consistencyProof(leafHashes, 2).map(toBase64) },
      emptyRoot: toHex(EMPTY_ROOT),
    },
    submissions,
    clientRecord,
    keyRecords: { operator: { entry: operatorRecord, id: entryId(operatorRecord) }, member: { entry: memberRecord, id: entryId(memberRecord) } },
    promise: { note: promiseNote },
    blocks,
    checkpoint: { note: checkpoint, historyRoot: toBase64(historyRoot) },
    trust,
    salted: (() => {
      const document = "licence 2026-0042\n";
      const salt = sha256(utf8("cairn vector salt"));
      return { document, documentDigest: toHex(sha256(utf8(document))), salt: toBase64(salt), commitment: toHex(saltedDigest(salt, sha256(utf8(document)))) };
    })(),
    trustV2: { document: trustV2, fingerprint: trustFingerprint(trustV2), fingerprintV1: trustFingerprint(trust) },
    receipt,
    signedRequests,
  };
}

const fence = (text: string, lang = "") => "```" + lang + "\n" + text + (text.endsWith("\n") ? "" : "\n") + "```";
const json = (v: unknown) => fence(JSON.stringify(v, null, 2), "json");

export function renderFormats(template: string, v: FormatVectors): string {
  const sections: Record<string, string> = {
    merkle: [
      `leaf hashes (hex):${v.merkle.leafHashes.map((h, i) => `\n  "${v.merkle.leaves[i]}" → ${h}`).join("")}`,
      `root of 3 (hex): ${v.merkle.root}`,
      `inclusion proof of leaf 1 in 3 (base64): ${JSON.stringify(v.merkle.inclusion.path)}`,
      `consistency proof from 2 (root ${v.merkle.consistency.fromRoot}) to 3 (base64): ${JSON.stringify(v.merkle.consistency.path)}`,
    ]
      .map((l) => l)
      .join("\n")
      .replace(/^/, "```\n")
      .concat("\n```"),
    keys: v.keys.map((k) => `- \`${k.label}\`\n  - signer: \`${k.signerKey}\`\n  - verifier: \`${k.verifierKey}\``).join("\n"),
    submission: v.submissions
      .map((s, i) => `Submission ${i + 1}, for a document whose bytes are ${JSON.stringify(s.document)} (digest ${s.digest}); entry id \`${s.id}\`:\n\n${fence(s.entry)}`)
      .join("\n\n"),
    keyRecords: [
      `The operator's rotation behind the version-2 trust example (§8), signed by the old and the new operator key; sealed in block 1, it gives the old key sizes up to 2 and the new one sizes from 3 (entry id \`${v.keyRecords.operator.id}\`):`,
      fence(v.keyRecords.operator.entry),
      `Member B moving to its second cosigner key: signed by its old and new key (as type-0x01 note keys under its name) and countersigned by the operator's second key (entry id \`${v.keyRecords.member.id}\`):`,
      fence(v.keyRecords.member.entry),
    ].join("\n\n"),
    clientRecord: `The registration of the example client, signed by the operator (entry id \`${v.clientRecord.id}\`):\n\n${fence(v.clientRecord.entry)}`,
    promise: `The promise for submission 1:\n\n${fence(v.promise.note)}`,
    blocks: v.blocks.map((b, h) => `Block ${h} (hash \`${b.hash}\`):\n\n${fence(b.header)}`).join("\n\n"),
    checkpoint: `The checkpoint after block 1, signed by the operator and cosigned by two of the three members (history root ${v.checkpoint.historyRoot}):\n\n${fence(v.checkpoint.note)}`,
    trust: `The trust document of the examples (fingerprint \`${v.trustV2.fingerprintV1}\`):\n\n${json(v.trust)}`,
    salted: `For the document ${JSON.stringify(v.salted.document)} (SHA-256 \`${v.salted.documentDigest}\`) and the salt \`${v.salted.salt}\` (base64; SHA-256 of "cairn vector salt", a real salt is random), the commitment anchored is \`${v.salted.commitment}\`.`,
    trustV2: `The same consortium after a rotation at 3 blocks, as version 2 (fingerprint \`${v.trustV2.fingerprint}\`); the receipt below, on a checkpoint of 2 blocks, verifies under both:\n\n${json(v.trustV2.document)}`,
    signedRequests: v.signedRequests
      .map((r) => `Signed by \`${r.signer}\` at ${r.time}, for \`${r.method} ${r.target}\`; the text signed:\n\n${fence(r.text)}\n\nand the header sent:\n\n${fence(`Authorization: ${r.authorization}`)}`)
      .join("\n\n"),
    receipt: `The receipt of submission 1 (block 0, leaf 1: leaf 0 is the client's registration), which verifies against the trust document above:\n\n${json(v.receipt)}`,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const section = sections[name];
    if (section === undefined) throw new Error(`FORMATS template names an unknown section {{${name}}}`);
    return section;
  });
}
