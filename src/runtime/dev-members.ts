/**
 * The embedded default's three members (docs/ARCHITECTURE.md "Processes"):
 * each witness a process of its own, with its own data dir under
 * data/members/<name>/ (cosigner key, replica, state) and its own loopback
 * port. This process never opens a member's files: a member's public key
 * and URL are what the member itself reports when it is ready, over IPC.
 * The witnesses end with this process (Ctrl-C reaches the whole group; a
 * witness also exits when its IPC channel to this process closes).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MemberConfig } from "../service/config.js";

const MEMBER_MAIN = fileURLToPath(new URL("./member-main.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const READY_TIMEOUT_MS = 60_000;

export interface DevMembers {
  readonly members: readonly MemberConfig[];
  /** The witness processes, by member name. */
  readonly processes: ReadonlyMap<string, ChildProcess>;
  /** Starts a member's witness again (after it stopped or was killed), on its port and data dir. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface DevMemberSpec {
  readonly name: string;
  readonly port: number;
}

/** Starts the witnesses and resolves once each has said where it serves and with which key. */
export async function startDevMembers(options: {
  readonly dataDir: string;
  readonly origin: string;
  readonly operatorKey: string;
  readonly operatorUrl: string;
  readonly members: readonly DevMemberSpec[];
  readonly env?: NodeJS.ProcessEnv;
}): Promise<DevMembers> {
  const processes = new Map<string, ChildProcess>();
  const stopOne = (p: ChildProcess) =>
    new Promise<void>((done) => {
      if (p.exitCode !== null || p.signalCode !== null) return done();
      p.once("exit", () => done());
      p.kill("SIGTERM");
    });
  const stop = async () => {
    await Promise.all([...processes.values()].map(stopOne));
  };
  const spawnOne = async ({ name, port }: DevMemberSpec): Promise<MemberConfig> => {
    const child = spawn(process.execPath, ["--import", TSX, MEMBER_MAIN], {
      env: {
        ...(options.env ?? process.env),
        CAIRN_MEMBER_NAME: name,
        CAIRN_MEMBER_DATA_DIR: join(options.dataDir, "members", name),
        CAIRN_LOG_ORIGIN: options.origin,
        CAIRN_LOG_KEYS: options.operatorKey,
        CAIRN_LOG_URL: options.operatorUrl,
        PORT: String(port),
        HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    processes.set(name, child);
    prefixLines(child, name);
    const ready = await new Promise<{ url: string; key: string; pqKey: string | null }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`witness ${name} did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      child.once("message", (m: { type: string; url: string; key: string; pqKey: string | null }) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`witness ${name} exited (${code}) before it was ready`));
      });
    });
    return { name, key: ready.key, ...(ready.pqKey ? { pqKey: ready.pqKey } : {}), witness: ready.url };
  };
  try {
    const members = await Promise.all(options.members.map(spawnOne));
    return {
      members,
      processes,
      async restart(name) {
        const spec = options.members.find((m) => m.name === name);
        if (spec === undefined) throw new Error(`no member named ${name}`);
        const old = processes.get(name);
        if (old !== undefined) await stopOne(old);
        await spawnOne(spec);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A witness's output, each line prefixed with its name, on this process's streams. */
function prefixLines(child: ChildProcess, name: string): void {
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let rest = "";
    from?.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) to.write(`[${name}] ${line}\n`);
    });
  }
}

/**
 * A port nobody listens on now (for PORT=0: the witnesses must know the
 * operator's URL before it listens). It is taken from below the range the
 * system hands out to outgoing connections (Linux: ip_local_port_range,
 * 32768–60999 by default), because a server that is stopped and started
 * again on its port — a witness restarting — would otherwise find it taken
 * by some client's socket in between, on a busy machine.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return freePorts(1, host);
}

/**
 * The first of `count` consecutive ports nobody listens on now, from the
 * same range as freePort: the embedded default's layout, an operator at
 * PORT and its witnesses at PORT+1, PORT+2, PORT+3. No port is handed out
 * twice by one process, so calls made together (before any of their
 * servers listens) never collide with each other.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number> {
  const [low, high] = listeningRange();
  for (let tries = 0; tries < 64; tries++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    const run = Array.from({ length: count }, (_, i) => base + i);
    if (run.some((port) => handedOut.has(port))) continue;
    for (const port of run) handedOut.add(port);
    if ((await Promise.all(run.map((port) => canListen(host, port)))).every(Boolean)) return base;
  }
  if (count === 1) return kernelPort(host);
  throw new Error(`no ${count} consecutive free ports on ${host}`);
}

/** Ports this process has handed out: each one's server may not listen yet. */
const handedOut = new Set<number>();

function listeningRange(): [number, number] {
  let ephemeralStart = 32768;
  try {
    ephemeralStart = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || ephemeralStart;
  } catch {
    // Not Linux: the common default.
  }
  const high = Math.min(ephemeralStart, 65536);
  return [Math.max(1024, high - 12_000), high];
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .listen(port, host, () => server.close(() => resolve(true)));
  });
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject).listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
