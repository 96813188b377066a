/**
 * GET /: the explorer. Everything it shows is what anyone may read (README
 * "Privacy"): the latest checkpoint and who cosigned it when, the
 * consortium's members and their witnesses' last answers, block headers,
 * anchors by entry id. A block's entries and digest lookups are scoped
 * reads; the explorer asks, and shows the server's refusal as what it is, a
 * policy, not a failure.
 *
 * State lives in the location's fragment (#block/5, #anchor/<id>), so a
 * block or an anchor can be linked to and the back button works; a digest
 * is never put there, as it would stay in the browser's history.
 */
import { toBase64, toHex } from "../core/bytes.js";
import { parseBlockHeader } from "../core/block.js";
import { parseEntry } from "../core/submission.js";
import { getJson, getText } from "./api.js";
import { describeCheckpoint, type SignatureLine } from "./checkpoint-signatures.js";
import { byId, fill, h, type Child } from "./dom.js";
import { isoTime, relativeTime, timeInWords } from "./time.js";
import type { AnchorJson, BlockEntriesJson, BlockJson, BlockListJson, ConsortiumJson, DigestAnchorsJson, HealthJson, MemberJson } from "./wire.js";

const BLOCKS_PER_PAGE = 10;
const ENTRIES_PER_PAGE = 20;

const checkpointBox = byId("checkpoint");
const consortiumBox = byId("consortium");
const blocksBox = byId("blocks");
const blockSection = byId("block-section");
const blockHeading = byId("block-heading");
const blockBox = byId("block");
const searchForm = byId<HTMLFormElement>("search-form");
const searchInput = byId<HTMLInputElement>("search-q");
const searchResult = byId("search-result");
const refreshButton = byId<HTMLButtonElement>("refresh");

const now = () => Math.floor(Date.now() / 1000);

/** Finality is known from the latest checkpoint: blocks below its size are cosigned by a quorum. */
let finalSize = 0;
let headSize = 0;
/** The first height the blocks table shows; undefined: the newest page. */
let blocksFrom: number | undefined;

function time(unix: number): HTMLElement {
  return h("time", { datetime: isoTime(unix), title: isoTime(unix) }, `${timeInWords(unix)} (${relativeTime(unix, now())})`);
}

function short(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

function problem(message: string): HTMLElement {
  return h("p", { class: "warn" }, message);
}

function table(caption: string, head: readonly string[], rows: readonly (readonly Child[])[]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
      // Each cell names its column, for the stacked layout of narrow screens (style.css).
      h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c, i) => h("td", { "data-label": head[i] }, c))))),
    ),
  );
}

function facts(pairs: readonly (readonly [string, Child])[]): HTMLElement {
  return h("dl", { class: "facts" }, ...pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

// ---- Checkpoint and consortium ------------------------------------------

const CHECK_WORDS: Record<SignatureLine["check"], string> = {
  ok: "✓ verifies under the published key",
  bad: "✗ does not verify under the published key",
  "unknown-key": "? no published key by this name and id",
};

function signatureRow(s: SignatureLine): Child[] {
  const role = s.role === "operator" ? "operator" : s.role === "member" ? `member (${s.kind})` : "unknown";
  return [h("span", { class: "name" }, s.name), role, s.timestamp === undefined ? "—" : time(s.timestamp), h("span", { class: `check ${s.check}` }, CHECK_WORDS[s.check])];
}

async function showCheckpoint(note: string, consortium: ConsortiumJson): Promise<void> {
  const { checkpoint, signatures } = await describeCheckpoint(note, consortium);
  finalSize = checkpoint.size;
  const cosigners = signatures.filter((s) => s.role === "member" && s.check === "ok");
  const names = [...new Set(cosigners.map((s) => s.name))];
  fill(
    checkpointBox,
    facts([
      ["Log", h("span", { class: "mono" }, checkpoint.origin)],
      ["Size", h("span", { "data-checkpoint-size": checkpoint.size }, `${checkpoint.size} block${checkpoint.size === 1 ? "" : "s"}`)],
      ["Root", h("code", { class: "mono" }, toBase64(checkpoint.root))],
      ["Cosigned by", names.length === 0 ? "no member yet" : `${names.length} of ${consortium.members.length} members (quorum ${consortium.quorum}): ${names.join(", ")}`],
    ]),
    table("Signatures on the checkpoint", ["Signer", "Role", "Cosigned at", "Signature"], signatures.map(signatureRow)),
    h(
      "p",
      { class: "help" },
      "Signatures checked in your browser against the keys this server publishes. To prove a document, check its receipt against trust you pinned: ",
      h("a", { href: "/verify" }, "verify a document"),
      ".",
    ),
    h("details", {}, h("summary", {}, "The signed note"), h("pre", { class: "mono" }, note)),
  );
}

const ANSWER_WORDS: Record<NonNullable<MemberJson["answer"]>["status"], string> = { cosigned: "✓ cosigned", refused: "✗ refused", unreachable: "⚠ unreachable" };

function showConsortium(consortium: ConsortiumJson): void {
  const rows = consortium.members.map((m): Child[] => [
    h("span", { class: "name" }, m.name),
    h("span", { class: "mono url" }, m.witness),
    m.answer === null
      ? "not asked yet"
      : h(
          "span",
          { class: `answer ${m.answer.status}` },
          `${ANSWER_WORDS[m.answer.status]}, `,
          time(m.answer.at),
          m.answer.message ? h("span", { class: "detail" }, m.answer.message) : null,
        ),
    m.head === null ? "—" : `${m.head.size} block${m.head.size === 1 ? "" : "s"}`,
  ]);
  fill(
    consortiumBox,
    h("p", {}, `${consortium.quorum} of ${consortium.members.length} members must cosign a checkpoint for its blocks to be final. Operator: `, h("span", { class: "mono" }, consortium.operator.name), "."),
    table("Members and their witnesses", ["Member", "Witness", "Last answer", "Cosigned head"], rows),
  );
}

// ---- Blocks --------------------------------------------------------------

function blockLink(height: number, label: Child = String(height)): HTMLElement {
  return h("a", { href: `#block/${height}` }, label);
}

function finality(height: number): string {
  return height < finalSize ? "final" : "awaiting cosignatures";
}

async function showBlocks(): Promise<void> {
  const newest = Math.max(0, headSize - BLOCKS_PER_PAGE);
  const from = Math.min(blocksFrom ?? newest, newest);
  if (headSize === 0) {
    fill(blocksBox, h("p", {}, "No block has been sealed yet."));
    return;
  }
  const answer = await getJson<BlockListJson>(`/v1/blocks?from=${from}&limit=${BLOCKS_PER_PAGE}`);
  if (!answer.ok) return fill(blocksBox, problem(`The blocks could not be read: ${answer.message}`));
  const blocks = [...answer.body.blocks].reverse();
  const pager = h("div", { class: "pager" });
  if (from + BLOCKS_PER_PAGE < headSize) {
    const newer = h("button", { type: "button" }, "Newer blocks");
    newer.addEventListener("click", () => {
      blocksFrom = from + BLOCKS_PER_PAGE >= newest ? undefined : from + BLOCKS_PER_PAGE;
      void showBlocks();
    });
    pager.append(newer);
  }
  if (from > 0) {
    const older = h("button", { type: "button" }, "Older blocks");
    older.addEventListener("click", () => {
      blocksFrom = Math.max(0, from - BLOCKS_PER_PAGE);
      void showBlocks();
    });
    pager.append(older);
  }
  fill(
    blocksBox,
    h("p", {}, `Blocks ${from} to ${from + answer.body.blocks.length - 1} of ${headSize}, newest first.`),
    table(
      "Blocks",
      ["Height", "Sealed at", "Entries", "Hash", "Finality"],
      blocks.map((b): Child[] => [blockLink(b.height), time(b.sealedAt), String(b.size), h("code", { class: "mono" }, short(b.hash)), finality(b.height)]),
    ),
    pager,
  );
}

async function showBlock(height: number): Promise<void> {
  blockSection.hidden = false;
  fill(blockHeading, `Block ${height}`);
  fill(blockBox, h("p", {}, "Loading…"));
  blockHeading.focus();
  const answer = await getJson<BlockJson>(`/v1/blocks/${height}`);
  if (!answer.ok) return fill(blockBox, problem(answer.status === 404 ? `There is no block ${height} yet.` : `Block ${height} could not be read: ${answer.message}`));
  const block = answer.body;
  const header = parseBlockHeader(block.header);
  const entries = h("div", { id: "entries" });
  fill(
    blockBox,
    facts([
      ["Height", String(block.height)],
      ["Hash", h("code", { class: "mono" }, block.hash)],
      ["Previous block", block.height === 0 ? "none: the first block" : blockLink(block.height - 1, h("code", { class: "mono" }, toHex(header.prevHash)))],
      ["Entries", String(block.size)],
      ["Batch root", h("code", { class: "mono" }, toBase64(header.root))],
      ["Sealed at", time(block.sealedAt)],
      ["Finality", finality(block.height)],
    ]),
    h("details", {}, h("summary", {}, "The header as hashed"), h("pre", { class: "mono", "data-block-header": "" }, block.header)),
    h("h3", {}, "Entries"),
    entries,
  );
  await showEntries(entries, block.height, 0);
}

function entryCells(e: BlockEntriesJson["entries"][number]): Child[] {
  const link = h("a", { href: `#anchor/${e.id}` }, h("code", { class: "mono" }, short(e.id)));
  try {
    const { submission, signer } = parseEntry(e.entry);
    return [String(e.index), link, signer.name, h("code", { class: "mono" }, short(toHex(submission.digest))), time(submission.time)];
  } catch {
    // Client and key records are entries too, with texts of their own.
    return [String(e.index), link, "—", e.entry.split("\n", 1)[0] ?? "", "—"];
  }
}

async function showEntries(box: HTMLElement, height: number, offset: number): Promise<void> {
  const answer = await getJson<BlockEntriesJson>(`/v1/blocks/${height}/entries?offset=${offset}&limit=${ENTRIES_PER_PAGE}`);
  if (!answer.ok) {
    if (answer.status === 401 || answer.status === 403) {
      return fill(
        box,
        h(
          "p",
          { class: "members-only", "data-entries": "members-only" },
          "Entries are visible to consortium members: they hold the submitters' names, digests and times. Anyone with a receipt can look its own entry up by id above.",
        ),
      );
    }
    return fill(box, problem(`The entries could not be read: ${answer.message}`));
  }
  const { entries, next, size } = answer.body;
  const pager = h("div", { class: "pager" });
  if (offset > 0) {
    const previous = h("button", { type: "button" }, "Previous entries");
    previous.addEventListener("click", () => void showEntries(box, height, Math.max(0, offset - ENTRIES_PER_PAGE)));
    pager.append(previous);
  }
  if (next !== null) {
    const more = h("button", { type: "button" }, "Next entries");
    more.addEventListener("click", () => void showEntries(box, height, next));
    pager.append(more);
  }
  const last = offset + entries.length - 1;
  fill(
    box,
    h("p", {}, entries.length === 0 ? "No entries here." : `Entries ${offset} to ${last} of ${size}.`),
    table(`Entries of block ${height}`, ["Index", "Entry id", "Client", "Digest", "Dated"], entries.map(entryCells)),
    pager,
  );
}

// ---- Search --------------------------------------------------------------

function anchorFacts(a: AnchorJson): HTMLElement {
  return facts([
    ["Entry id", h("code", { class: "mono" }, a.id)],
    ["Status", h("span", { "data-anchor-status": a.status }, a.status === "sealed" ? "sealed in a block" : "pending: waiting for the next seal")],
    ["Received at", time(a.receivedAt)],
    ["Block", a.block === undefined ? "—" : h("span", {}, blockLink(a.block.height, `block ${a.block.height}`), `, entry ${a.block.index}, ${finality(a.block.height)}`)],
  ]);
}

async function findAnchor(id: string): Promise<void> {
  fill(searchResult, h("p", {}, "Looking the entry up…"));
  const answer = await getJson<AnchorJson>(`/v1/anchors/${id}`);
  if (!answer.ok) return fill(searchResult, problem(answer.status === 404 ? "No anchor has this entry id." : `The anchor could not be read: ${answer.message}`));
  const a = answer.body;
  fill(
    searchResult,
    anchorFacts(a),
    a.status === "sealed"
      ? h(
          "p",
          {},
          h("a", { href: `/v1/anchors/${a.id}/receipt`, download: `${a.id}.cairn.json` }, "Download the receipt"),
          " and ",
          h("a", { href: "/verify" }, "verify it with the document"),
          ".",
        )
      : null,
  );
}

async function findDigest(digest: string): Promise<void> {
  fill(searchResult, h("p", {}, "Looking the digest up…"));
  const answer = await getJson<DigestAnchorsJson>(`/v1/digests/${digest}`);
  if (!answer.ok) {
    if (answer.status === 401 || answer.status === 403) {
      return fill(
        searchResult,
        h(
          "div",
          { class: "note", "data-digest-lookup": "refused" },
          h("p", {}, "This server does not look digests up for anyone who asks: a digest would confirm a guessed document. The client that anchored it can, with a signed request, and so can the consortium's members."),
          h("p", { class: "help" }, `The server said: ${answer.message}`),
          h("p", {}, "If you hold the document and its receipt, ", h("a", { href: "/verify" }, "verify them here"), ": nothing is sent."),
        ),
      );
    }
    return fill(searchResult, problem(`The digest could not be looked up: ${answer.message}`));
  }
  const { anchors } = answer.body;
  fill(
    searchResult,
    anchors.length === 0
      ? h("p", {}, "No anchor of this digest.")
      : h("ul", { class: "plain" }, ...anchors.map((a) => h("li", {}, h("a", { href: `#anchor/${a.id}` }, h("code", { class: "mono" }, short(a.id))), ` — ${a.status}, received ${timeInWords(a.receivedAt)}`))),
  );
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = searchInput.value.trim().toLowerCase();
  const by = (searchForm.elements.namedItem("by") as RadioNodeList | null)?.value ?? "id";
  if (!/^[0-9a-f]{64}$/.test(value)) {
    fill(searchResult, problem("An entry id and a digest are both 64 hexadecimal characters (0-9, a-f)."));
    return;
  }
  if (by === "digest") void findDigest(value);
  else if (location.hash === `#anchor/${value}`) void findAnchor(value);
  else location.hash = `#anchor/${value}`;
});

// ---- Routing and loading -------------------------------------------------

function route(): void {
  const block = /^#block\/(\d{1,15})$/.exec(location.hash);
  if (block !== null) {
    void showBlock(Number(block[1]));
    return;
  }
  const anchor = /^#anchor\/([0-9a-f]{64})$/.exec(location.hash);
  if (anchor !== null) {
    searchInput.value = anchor[1]!;
    void findAnchor(anchor[1]!);
  }
}

async function load(): Promise<void> {
  refreshButton.disabled = true;
  try {
    const [note, consortium, health] = await Promise.all([getText("/v1/checkpoint"), getJson<ConsortiumJson>("/v1/consortium"), getJson<HealthJson>("/healthz")]);
    if (consortium.ok) showConsortium(consortium.body);
    else fill(consortiumBox, problem(`The consortium could not be read: ${consortium.message}`));
    if (note.ok && consortium.ok) {
      await showCheckpoint(note.body, consortium.body).catch((e: unknown) => fill(checkpointBox, problem(`The checkpoint could not be read: ${(e as Error).message}`)));
    } else {
      fill(checkpointBox, problem(`The checkpoint could not be read: ${note.ok ? "no consortium to check it with" : note.message}`));
    }
    headSize = Math.max(finalSize, health.ok && typeof health.body.blocks === "number" ? health.body.blocks : 0);
    await showBlocks();
  } finally {
    refreshButton.disabled = false;
  }
}

refreshButton.addEventListener("click", () => void load().then(route));
window.addEventListener("hashchange", route);
void load().then(route);
