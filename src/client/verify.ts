/**
 * `cairn/verify`: checking receipts offline, for verifiers that anchor
 * nothing (a registry's clerk, a court, a citizen's browser). Only src/core.
 */
export { verifyReceipt, ReceiptVerifier, DEFAULT_SKEW_SECONDS, type ReceiptVerification, type VerifyReceiptOptions } from "../core/verify-receipt.js";
export { parseTrust, trustFingerprint, type Trust, type TrustV1, type TrustV2 } from "../core/trust.js";
export { checkConsistent, checkSameSize, isSplitView, SplitViewError } from "../core/split-view.js";
export { parseReceipt, withSalt, saltedDigest, type ReceiptJson } from "../core/receipt.js";
export { sha256 } from "../core/hash.js";
export { CairnError, isCairnError } from "../core/errors.js";
