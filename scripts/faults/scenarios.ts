/**
 * The faults, one scenario each (issue 13.1). A scenario injects its fault
 * while the SDK load runs, clears it, and says in a few words what it did;
 * the runner (./run.ts) measures and re-checks. Each leaves the deployment
 * as it found it: operator 0 and the three witnesses running, every proxy
 * passing.
 */
import { closeSync, existsSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BLOCK_SKEW_SECONDS } from "../../src/core/verify-block.js";
import { canMoveClocks, FAKETIME_LIB, sleep, type Deployment } from "./deployment.js";
import { Load } from "./load.js";
import { FaultProxy } from "./proxy.js";
import { withStore } from "./recheck.js";

export interface ScenarioContext {
  readonly d: Deployment;
  /** How long a fault is held, ms. */
  readonly holdMs: number;
  /** Operator kills in the SIGKILL scenario. */
  readonly kills: number;
  /** Where the primary's filesystem is, when the runner mounted one of its own. */
  readonly primaryMount: string | undefined;
  readonly random: () => number;
  /** Entries acknowledged so far in this scenario, by every load. */
  acked(): number;
  /** Starts load (the runner's default load already runs against operator 0). */
  load(servers: readonly string[], loops?: number): Load;
}

export interface Scenario {
  readonly name: string;
  /** The fault, in the table's words. */
  readonly fault: string;
  /** Runs in `npm test`'s small run too (the others take long, or only the full run has time for them). */
  readonly small: boolean;
  /** How long the chain may take to be final again after the fault, ms. */
  readonly finalWithinMs?: number;
  /** Why it cannot run here, if it cannot. */
  skip?(ctx: ScenarioContext): string | undefined;
  /** Injects the fault and clears it; resolves with a note for the table. */
  run(ctx: ScenarioContext): Promise<string>;
}

const headOf = (file: string) => withStore(file, async (store) => (await store.head()).size);

async function blocksNow(url: string): Promise<number> {
  const res = await fetch(`${url}/healthz`);
  return ((await res.json()) as { blocks: number }).blocks;
}

/** Submissions the operator has answered with `status` since it started (its /metrics, open in this deployment). */
async function submissionsAnswered(url: string, status: number): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cairn_http_requests_total{") && line.includes('route="/v1/anchors"') && line.includes(`status="${status}"`)) n += Number(line.split(" ").at(-1));
  }
  return n;
}

/** Waits until a block is added to the chain (then a seal is finalizing it), or `ms` passes. */
async function nextBlock(url: string, ms: number): Promise<boolean> {
  const from = await blocksNow(url);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await blocksNow(url).catch(() => from)) > from) return true;
    await sleep(10);
  }
  return false;
}

/** Moves a process's clock 10 minutes ahead for `ms` (libfaketime re-reads the file each second), then back; resolves with the height the chain had when it jumped. */
async function jump(clockFile: string, ms: number, url: string): Promise<number> {
  await sleep(1500); // a second of the right time first, under load
  const from = await blocksNow(url);
  writeFileSync(clockFile, "+600s\n");
  await sleep(ms + 1000);
  writeFileSync(clockFile, "+0\n");
  await sleep(1100); // until the process has read it
  return from;
}

/** Blocks from `height` on dated after the real time now plus the witnesses' skew: what a clock running ahead sealed. */
function datedAhead(file: string, height: number): Promise<{ sealed: number; ahead: number }> {
  return withStore(file, async (store) => {
    const blocks = await store.listBlocks(height, 1_000_000);
    const limit = Math.floor(Date.now() / 1000) + DEFAULT_BLOCK_SKEW_SECONDS;
    return { sealed: blocks.length, ahead: blocks.filter((b) => b.sealedAt > limit).length };
  });
}

const restartWitness = async (d: Deployment, name: string) => {
  await d.stopMember(name, "SIGTERM");
  await d.startMember(name);
};

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "operator-sigkill",
    fault: "SIGKILL of the operator mid-seal, again and again, restarting each time",
    small: true,
    async run({ d, kills, random, acked }) {
      let afterCommit = 0;
      for (let k = 0; k < kills; k++) {
        // The load has found the restarted operator again: it is accepting and sealing.
        const resumed = acked();
        for (const until = Date.now() + 10_000; acked() < resumed + 50 && Date.now() < until; ) await sleep(20);
        // Half the kills land just after a block is committed, while its checkpoint is out for cosigning; half at any moment of the seal cycle.
        if (k % 2 === 0 && (await nextBlock(d.url, 5000))) {
          await sleep(random() * 30);
          afterCommit++;
        } else await sleep(random() * 1000);
        await d.stopOperator(0, "SIGKILL");
        await d.startOperator(0);
      }
      return `${kills} kills under load: ${afterCommit} just after a block was committed, ${kills - afterCommit} at random moments of the seal cycle; restarted each time`;
    },
  },
  {
    name: "witness-kill-after-persist",
    fault: "SIGKILL of a witness after it stored its cosigned checkpoint, before it answered",
    small: true,
    async run({ d }) {
      const m = d.member("member-1.localhost");
      await d.stopMember(m.name, "SIGTERM");
      await d.startMember(m.name, { env: { CAIRN_WITNESS_FAULT: "kill-after-persist" } });
      const died = await new Promise<boolean>((done) => {
        const timer = setTimeout(() => done(false), 30_000);
        m.proc!.once("exit", () => (clearTimeout(timer), done(true)));
      });
      await d.startMember(m.name);
      return died ? `${m.name} killed itself after persisting, restarted` : `${m.name} was never asked to cosign within 30 s`;
    },
  },
  {
    name: "witness-kill-mid-replication",
    fault: "SIGKILL of a witness while it catches up its replica",
    small: true,
    async run({ d, holdMs, random }) {
      const m = d.member("member-2.localhost");
      await d.stopMember(m.name, "SIGKILL");
      await sleep(holdMs); // the chain moves on without it
      const behind = await blocksNow(d.url);
      await d.startMember(m.name);
      // Its next add-checkpoint (within a seal interval) makes it fetch and verify the blocks it missed.
      await sleep(300 + random() * 700);
      await d.stopMember(m.name, "SIGKILL");
      const at = await headOf(join(m.dataDir, "replica.db"));
      await d.startMember(m.name);
      return `${m.name} down for ${holdMs / 1000} s, killed again with its replica at ${at} of ≥ ${behind} blocks`;
    },
  },
  {
    name: "primary-disk-full",
    fault: "the primary's disk full during submits and seals",
    small: true,
    skip: ({ primaryMount }) => (primaryMount === undefined ? "needs a tmpfs of its own for the primary (mount as root)" : undefined),
    async run({ d, holdMs, primaryMount }) {
      const filler = join(primaryMount!, "filler");
      const fd = openSync(filler, "w");
      let filled = 0;
      try {
        for (const chunk of [1 << 20, 1 << 14, 1 << 10]) {
          const block = Buffer.alloc(chunk, 0xee);
          for (;;) {
            try {
              writeSync(fd, block);
              filled += chunk;
            } catch {
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      const [blocks0, pushback0] = [await blocksNow(d.url), await submissionsAnswered(d.url, 503)];
      // SQLite first reuses the pages a seal frees (the pending rows it consumed): the disk is full for it only once they are used up.
      const started = Date.now();
      for (const until = started + 15_000; (await submissionsAnswered(d.url, 503)) === pushback0 && Date.now() < until; ) await sleep(50);
      await sleep(holdMs);
      const [blocks1, pushback1] = [await blocksNow(d.url), await submissionsAnswered(d.url, 503)];
      rmSync(filler);
      return `filled (${(filled / 2 ** 20).toFixed(0)} MiB) for ${((Date.now() - started) / 1000).toFixed(1)} s: ${pushback1 - pushback0} submissions answered 503 UNAVAILABLE + Retry-After, resent by the SDK once freed; ${blocks1 - blocks0} blocks sealed while full`;
    },
  },
  {
    name: "witness-slow",
    fault: "a witness answering 3 s late",
    small: false,
    async run({ d, holdMs }) {
      const m = d.member("member-1.localhost");
      m.proxy.set({ kind: "delay", ms: 3000 });
      await sleep(holdMs);
      m.proxy.set({ kind: "pass" });
      return `${m.name} 3 s late for ${holdMs / 1000} s`;
    },
  },
  {
    name: "witness-500",
    fault: "a witness answering 500",
    small: false,
    async run({ d, holdMs }) {
      const m = d.member("member-2.localhost");
      m.proxy.set({ kind: "status", status: 500 });
      await sleep(holdMs);
      m.proxy.set({ kind: "pass" });
      return `${m.name} answered 500 for ${holdMs / 1000} s`;
    },
  },
  {
    name: "witness-hangs",
    fault: "a witness that takes requests and never answers",
    small: false,
    async run({ d, holdMs }) {
      const m = d.member("member-3.localhost");
      m.proxy.set({ kind: "hang" });
      await sleep(holdMs);
      m.proxy.set({ kind: "pass" });
      return `${m.name} silent for ${holdMs / 1000} s`;
    },
  },
  {
    name: "witness-replica-deleted",
    fault: "a witness's replica file deleted",
    small: false,
    async run({ d, holdMs }) {
      const m = d.member("member-1.localhost");
      for (const suffix of ["", "-wal", "-shm"]) {
        const f = join(m.dataDir, `replica.db${suffix}`);
        if (existsSync(f)) rmSync(f);
      }
      // The running process keeps writing the unlinked file; its restart finds none.
      await sleep(holdMs);
      await restartWitness(d, m.name);
      return `${m.name}'s replica.db, -wal and -shm deleted while it ran; restarted ${holdMs / 1000} s later`;
    },
  },
  {
    name: "operator-clock-ahead",
    fault: "the operator's clock jumping 10 minutes ahead, and back",
    small: true,
    finalWithinMs: 15 * 60_000,
    skip: () => (canMoveClocks() ? undefined : `needs libfaketime (${FAKETIME_LIB})`),
    async run({ d, holdMs }) {
      const clock = join(d.dir, "operator-clock");
      writeFileSync(clock, "+0\n");
      await d.stopOperator(0, "SIGTERM");
      await d.startOperator(0, { clockFile: clock });
      const from = await jump(clock, holdMs, d.url);
      const { sealed, ahead } = await datedAhead(d.primaryFile, from);
      await d.stopOperator(0, "SIGTERM");
      await d.startOperator(0);
      return `the running operator's clock 10 min ahead for ${holdMs / 1000} s, then right again: ${sealed} blocks sealed meanwhile, ${ahead} dated ahead`;
    },
  },
  {
    name: "member-clock-ahead",
    fault: "a member's clock jumping 10 minutes ahead, and back",
    small: false,
    skip: () => (canMoveClocks() ? undefined : `needs libfaketime (${FAKETIME_LIB})`),
    async run({ d, holdMs }) {
      const m = d.member("member-3.localhost");
      const clock = join(d.dir, "member-clock");
      writeFileSync(clock, "+0\n");
      await d.stopMember(m.name, "SIGTERM");
      await d.startMember(m.name, { clockFile: clock });
      await jump(clock, holdMs, d.url);
      await restartWitness(d, m.name);
      return `${m.name}'s running clock 10 min ahead for ${holdMs / 1000} s, then right again`;
    },
  },
  {
    name: "operators-racing",
    fault: "two operators sealing the same primary",
    small: true,
    async run(ctx) {
      const { d, holdMs } = ctx;
      await d.startOperator(1);
      const second = ctx.load([d.operators[1]!.url], 2);
      await sleep(holdMs);
      await second.stop();
      await d.stopOperator(1, "SIGTERM");
      return `a second operator process on the same primary for ${holdMs / 1000} s, with its own load`;
    },
  },
  {
    name: "client-retries",
    fault: "a client that resends every request whose reply was dropped",
    small: true,
    async run(ctx) {
      const { d, holdMs } = ctx;
      const proxy = await FaultProxy.start(() => d.url);
      proxy.set({ kind: "drop-reply", every: 3 });
      const dropping = ctx.load([proxy.url], 2);
      await sleep(holdMs);
      await dropping.stop();
      await proxy.close();
      return `${proxy.dropped} replies dropped after the server acted; the SDK resent each`;
    },
  },
];
