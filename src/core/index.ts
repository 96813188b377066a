/**
 * Cairn core: the pure formats, Merkle math, signatures and the offline
 * verifier. No I/O; runs unchanged in browsers, Node and workerd. Hashes are
 * Uint8Array; keys are C2SP verifier-key strings.
 */
export { CairnError, isCairnError, type ErrorCode } from "./errors.js";
export { toHex, fromHex, toBase64, fromBase64, utf8, bytesEqual, constantTimeEqual } from "./bytes.js";
export { sha256, EMPTY_ROOT } from "./hash.js";
export {
  leafHash,
  nodeHash,
  merkleRoot,
  inclusionProof,
  rootFromInclusionProof,
  verifyInclusion,
  consistencyProof,
  verifyConsistency,
  treeLevels,
  rootFromLevels,
} from "./merkle.js";
export * as tlog from "./tlog.js";
export type { NodeRef } from "./tlog.js";
export { ed25519PublicKey, ed25519Sign, ed25519Verify } from "./ed25519.js";
export {
  KEY_TYPE_ED25519,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  keyId,
  isValidKeyName,
  formatVerifierKey,
  parseVerifierKey,
  formatSignerKey,
  parseSignerKey,
  generateKeyPair,
  noteSigner,
  noteVerifier,
  type NoteSigner,
  type NoteVerifier,
  type VerifierKey,
  type SignerKey,
} from "./keys.js";
export { parseNote, formatNote, signNote, addSignatures, openNote, type OpenedNote } from "./note.js";
export { formatCheckpoint, parseCheckpoint, type Checkpoint } from "./checkpoint.js";
export { cosign, cosigner, cosignatureMessage, cosignatureVerifier } from "./cosignature.js";
export {
  mldsaCosign,
  mldsaCosigner,
  mldsaCosignedMessage,
  mldsaCosignatureVerifier,
  mldsa44PublicKey,
  MLDSA_COSIGNATURE_SIZE,
  type MldsaSignOptions,
} from "./mldsa-cosignature.js";
export {
  SUBMISSION_HEADER,
  formatSubmission,
  parseSubmission,
  parseEntry,
  entryId,
  verifyEntry,
  signSubmission,
  type Submission,
  type Entry,
} from "./submission.js";
export {
  CLIENT_RECORD_HEADER,
  formatClientRecord,
  parseClientRecord,
  signClientRecord,
  openClientRecord,
  isClientRecordEntry,
  isPlainClientName,
  CLIENT_NAME_RULE,
  ClientRegistry,
  type ClientRecordBody,
  type ClientAction,
} from "./client-record.js";
export {
  KEY_RECORD_HEADER,
  formatKeyRecord,
  parseKeyRecord,
  openKeyRecord,
  isKeyRecordEntry,
  signOperatorKeyRecord,
  signMemberKeyRecord,
  countersignKeyRecord,
  KeySchedule,
  type KeyRecordBody,
  type KeyRole,
  type ParsedKeyRecord,
} from "./key-record.js";
export { verifyBlock, type ChainTip, type BlockCheckOptions, type VerifiedBlock } from "./verify-block.js";
export {
  formatAddCheckpoint,
  parseAddCheckpoint,
  judgeAddCheckpoint,
  cosignatureResponse,
  cosignaturesFromResponse,
  TLOG_SIZE_CONTENT_TYPE,
  type AddCheckpointRequest,
  type AddCheckpointVerdict,
  type WitnessedCheckpoint,
} from "./witness-protocol.js";
export {
  SIGNED_REQUEST_V1,
  SIGNED_REQUEST_SCHEME,
  REQUEST_SKEW_SECONDS,
  requestText,
  requestSigner,
  signRequest,
  isSignedRequest,
  parseAuthorization,
  checkRequestTime,
  verifyRequest,
  type RequestFacts,
  type RequestSigner,
  type RequestAuthorization,
} from "./signed-request.js";
export { formatPromise, parsePromise, signPromise, openPromise, type AnchorPromise } from "./promise.js";
export { formatBlockHeader, parseBlockHeader, blockHash, checkChainLink, ZERO_HASH_HEX, type BlockHeader } from "./block.js";
export {
  parseTrust,
  majority,
  trustFingerprint,
  trustRewrites,
  trustSchedule,
  validAt,
  TRUST_VERSION,
  TRUST_VERSION_V2,
  type Trust,
  type TrustV1,
  type TrustV2,
  type TrustMember,
  type TrustMemberV2,
  type ScheduledKey,
} from "./trust.js";
export { checkSameSize, checkConsistent, isSplitView, SplitViewError, type View, type SplitKind } from "./split-view.js";
export { buildReceipt, parseReceipt, saltedDigest, withSalt, RECEIPT_VERSION, RECEIPT_VERSION_SALTED, SALT_SIZE, type Receipt, type ReceiptJson, type Proof } from "./receipt.js";
export {
  verifyReceipt,
  ReceiptVerifier,
  stepsOf,
  type ReceiptVerification,
  type VerifyReceiptOptions,
  type StepResult,
  type StepName,
} from "./verify-receipt.js";
