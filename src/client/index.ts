/**
 * `cairn/client`: anchoring from an application (README "Anchoring from an
 * app"). Runs unchanged in browsers, Node, Workers and Deno.
 */
export { CairnClient, MAX_BATCH, ReceiptPendingError, type Ack, type Anchorable, type BatchResult, type ClientOptions, type FoundAnchor, type PrepareOptions, type PreparedAnchor } from "./client.js";
export { ApiError, Http, UnreachableError, type Authorize, type Fetch, type HttpOptions } from "./http.js";
export { verifyReceipt, ReceiptVerifier, type ReceiptVerification, type VerifyReceiptOptions } from "../core/verify-receipt.js";
export { parseTrust, trustFingerprint, type Trust } from "../core/trust.js";
export type { ReceiptJson } from "../core/receipt.js";
