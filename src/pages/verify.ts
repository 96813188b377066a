/**
 * GET /verify: a person checks a document against its receipt, in this
 * browser, with src/core. The document is read and hashed here and goes
 * nowhere, nor does its digest: the one request this page makes after it
 * loads is for the server's published trust (/v1/trust), which carries
 * neither, and with a trust file picked no request is needed at all, so the
 * page keeps working with the network gone; its service worker
 * (./verify-offline.ts) lets it open again offline.
 */
import { fromHex, toHex } from "../core/bytes.js";
import { getJson } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { hashFile } from "./hash-file.js";
import { chooseTrust, describeTrust, type TrustChoice, type UsableTrust } from "./trust-choice.js";
import { checkReceipt, type Outcome, type StepLine } from "./verification.js";

const form = byId<HTMLFormElement>("verify-form");
const documentInput = byId<HTMLInputElement>("document");
const digestInput = byId<HTMLInputElement>("digest");
const documentStatus = byId("document-digest");
const receiptInput = byId<HTMLInputElement>("receipt");
const trustInput = byId<HTMLInputElement>("trust");
const trustStatus = byId("trust-status");
const trustReset = byId<HTMLButtonElement>("trust-reset");
const button = byId<HTMLButtonElement>("verify-button");
const resultSection = byId("result");
const resultHeading = byId("result-heading");
const verdict = byId("verdict");
const stepList = byId("steps");

let published: TrustChoice | undefined;

const picked = (input: HTMLInputElement): File | undefined => input.files?.[0] ?? undefined;

async function loadPublished(): Promise<void> {
  const answer = await getJson<unknown>("/v1/trust");
  published = answer.ok
    ? chooseTrust("published", "/v1/trust", answer.body)
    : { ok: false, source: "published", name: "/v1/trust", problem: `the server's published trust could not be read (${answer.message}); pick a trust file` };
  if (picked(trustInput) === undefined) showTrust(published);
}

async function fileTrust(file: File): Promise<TrustChoice> {
  return chooseTrust("file", file.name, await file.text());
}

function showTrust(choice: TrustChoice | undefined): void {
  trustReset.hidden = picked(trustInput) === undefined;
  if (choice === undefined) {
    trustStatus.removeAttribute("data-trust");
    fill(trustStatus, h("p", {}, "Reading the server's published trust…"));
    return;
  }
  trustStatus.setAttribute("data-trust", choice.source);
  if (!choice.ok) {
    fill(trustStatus, h("p", { class: "warn" }, choice.problem));
    return;
  }
  const fingerprint = h("p", {}, "Fingerprint ", h("code", { class: "mono", "data-fingerprint": choice.fingerprint }, choice.fingerprint));
  if (choice.source === "file") {
    fill(trustStatus, h("p", { class: "good" }, h("strong", {}, `Your trust file, ${choice.name}`), ` — ${describeTrust(choice.trust)}.`), fingerprint);
  } else {
    fill(
      trustStatus,
      h("p", { class: "warn" }, h("strong", {}, "Published by the server, not pinned by you"), ` — ${describeTrust(choice.trust)}.`),
      fingerprint,
      h("p", { class: "help" }, "Whoever runs the server could publish keys of their own. Compare this fingerprint with one you got from the consortium another way, or pick the trust file you were given."),
    );
  }
}

trustInput.addEventListener("change", () => {
  const file = picked(trustInput);
  if (file === undefined) return showTrust(published);
  void fileTrust(file).then(showTrust);
});
trustReset.addEventListener("click", () => {
  trustInput.value = "";
  showTrust(published);
  trustInput.focus();
});
documentInput.addEventListener("change", () => fill(documentStatus));

/** A reason the check cannot start, shown as a failed verdict. */
class Missing extends Error {}

async function chosenDigest(): Promise<{ digest: Uint8Array; fromDocument: boolean }> {
  const file = picked(documentInput);
  if (file !== undefined) {
    fill(documentStatus, `Hashing ${file.name}…`);
    const digest = await hashFile(file, (done, total) => {
      if (total > 0) fill(documentStatus, `Hashing ${file.name}… ${Math.floor((done / total) * 100)}%`);
    });
    fill(documentStatus, `SHA-256 of ${file.name}, computed here: `, h("code", { class: "mono" }, toHex(digest)));
    return { digest, fromDocument: true };
  }
  const typed = digestInput.value.trim().toLowerCase();
  if (typed === "") throw new Missing("choose the document, or type its SHA-256 digest");
  if (!/^[0-9a-f]{64}$/.test(typed)) throw new Missing("a SHA-256 digest is 64 hexadecimal characters (0-9, a-f)");
  return { digest: fromHex(typed, 32), fromDocument: false };
}

async function chosenTrust(): Promise<UsableTrust> {
  const file = picked(trustInput);
  const choice = file === undefined ? published : await fileTrust(file);
  if (choice === undefined) throw new Missing("the server's published trust is still loading; try again, or pick a trust file");
  showTrust(choice);
  if (!choice.ok) throw new Missing(choice.problem);
  return choice;
}

const MARKS: Record<StepLine["state"], string> = { ok: "✓", fail: "✗", skipped: "–", "not-run": "–" };
const SPOKEN: Record<StepLine["state"], string> = { ok: "passed", fail: "failed", skipped: "skipped", "not-run": "not reached" };

function showSteps(steps: readonly StepLine[]): void {
  fill(
    stepList,
    ...steps.map((s) =>
      h(
        "li",
        { class: `step ${s.state}`, "data-step": s.step, "data-state": s.state },
        h("span", { class: "mark", "aria-hidden": "true" }, MARKS[s.state]),
        h("span", { class: "visually-hidden" }, `${SPOKEN[s.state]}: `),
        h("strong", {}, s.title),
        s.detail === "" ? null : h("span", { class: "detail" }, s.detail),
      ),
    ),
  );
}

function showOutcome(outcome: Outcome, trust: UsableTrust): void {
  verdict.className = `verdict ${outcome.ok ? "ok" : "fail"}`;
  if (outcome.failedStep !== undefined) verdict.setAttribute("data-failed-step", outcome.failedStep);
  const trustLine =
    trust.source === "file"
      ? h("p", { "data-trust": "file" }, `Checked against your trust file ${trust.name} (fingerprint `, h("code", { class: "mono" }, trust.fingerprint), ").")
      : h(
          "p",
          { "data-trust": "published", class: "warn" },
          h("strong", {}, "Checked against the trust the server publishes, not one pinned by you"),
          " (fingerprint ",
          h("code", { class: "mono" }, trust.fingerprint),
          "): this shows the receipt is consistent with what the server says about itself, no more.",
        );
  fill(verdict, h("p", { class: "headline" }, h("span", { "aria-hidden": "true" }, outcome.ok ? "✓ " : "✗ "), outcome.headline), ...outcome.explanation.map((line) => h("p", {}, line)), trustLine);
  verdict.setAttribute("data-verdict", outcome.ok ? "ok" : "fail");
  showSteps(outcome.steps);
}

function showMissing(reason: string): void {
  verdict.className = "verdict fail";
  fill(verdict, h("p", { class: "headline" }, h("span", { "aria-hidden": "true" }, "✗ "), `Not verified: ${reason}.`));
  verdict.setAttribute("data-verdict", "fail");
  fill(stepList);
}

async function run(): Promise<void> {
  verdict.removeAttribute("data-verdict");
  verdict.removeAttribute("data-failed-step");
  verdict.className = "verdict";
  fill(verdict, h("p", {}, "Checking…"));
  fill(stepList);
  resultSection.hidden = false;
  button.disabled = true;
  try {
    const receiptFile = picked(receiptInput);
    if (receiptFile === undefined) throw new Missing("choose the receipt file");
    const trust = await chosenTrust();
    const { digest, fromDocument } = await chosenDigest();
    showOutcome(await checkReceipt({ receipt: await receiptFile.text(), trust: trust.trust, digest, fromDocument }), trust);
  } catch (e) {
    showMissing(e instanceof Missing ? e.message : `an unexpected error: ${(e as Error).message}`);
  } finally {
    button.disabled = false;
    resultHeading.focus();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run();
});

showTrust(undefined);
void loadPublished();
// Kept for the next visit without a network (./verify-offline.ts); a browser without service workers simply asks the server again.
navigator.serviceWorker?.register("/verify-sw.js", { scope: "/verify" }).catch(() => undefined);
