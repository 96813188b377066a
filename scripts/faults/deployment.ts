/**
 * The embedded default's processes, wired by hand so that faults can be put
 * between them: the operator (src/runtime/main.ts) and three member
 * witnesses (src/runtime/member-main.ts), each a process with its own data
 * dir, keys and database, as `npm start` runs them — except that each
 * witness is reached through a FaultProxy, the primary may live on a small
 * filesystem of its own, and any process can be killed, restarted, or
 * started with its clock moved (libfaketime).
 *
 * The keys are the embedded default's (runtime/dev-setup.ts makes them in
 * the data dir); the dev client is registered through the admin API, and
 * the trust document is pinned once, before any fault.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { formatVerifierKey, parseSignerKey } from "../../src/core/keys.js";
import { freePort } from "../../src/runtime/dev-members.js";
import { DEV_MEMBERS, devSettings } from "../../src/runtime/dev-setup.js";
import { ROOT } from "../wrangler.js";
import { FaultProxy } from "./proxy.js";

/** Debian's libfaketime (package faketime), preloaded to move one process's clock. */
export const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

export interface Member {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  /** Where the operator reaches this witness. */
  readonly proxy: FaultProxy;
  key: string;
  proc: ChildProcess | undefined;
}

export interface Operator {
  readonly port: number;
  readonly url: string;
  proc: ChildProcess | undefined;
}

export interface StartOptions {
  /**
   * A file holding the offset of the process's wall clock ("+0", "+600s"),
   * re-read each second (libfaketime): writing it makes the clock jump while
   * the process runs, as when NTP steps a machine's time.
   */
  readonly clockFile?: string;
  readonly env?: Readonly<Record<string, string>>;
}

const READY_MS = 60_000;

/** The environment without any CAIRN_ setting of the caller's: each process gets exactly the settings given. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CAIRN_") && k !== "PORT" && k !== "HOST"));
}

export const canMoveClocks = () => existsSync(FAKETIME_LIB);

function clockEnv(file: string | undefined): Record<string, string> {
  if (file === undefined) return {};
  if (!canMoveClocks()) throw new Error(`moving a clock needs libfaketime at ${FAKETIME_LIB} (Debian package faketime; .ci/run installs it)`);
  // Only the wall clock moves: timers and performance.now() run on the monotonic clock, as on a machine whose time is wrong.
  return { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: "1", FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

export class Deployment {
  readonly members: Member[] = [];
  readonly operators: Operator[] = [];
  readonly origin: string;
  readonly operatorVerifierKey: string;
  readonly clientKey: string;
  readonly adminToken: string;
  /** The trust document as pinned before any fault. */
  trust: unknown;
  private readonly settings: Readonly<Record<string, string | undefined>>;
  private logCount = 0;

  private constructor(
    readonly dir: string,
    /** The primary database's file. */
    readonly primaryFile: string,
  ) {
    const { settings, files } = devSettings(dir, {});
    this.settings = settings;
    this.origin = settings.CAIRN_ORIGIN!;
    this.operatorVerifierKey = verifierKeyOf(settings.CAIRN_OPERATOR_KEY!);
    this.clientKey = readFileSync(files.clientKeyFile, "utf8").trim();
    this.adminToken = settings.CAIRN_ADMIN_TOKEN!;
  }

  /** Makes the keys in `dir`, starts three witnesses and one operator, registers the dev client and pins the trust. */
  static async start(dir: string, primaryDir: string): Promise<Deployment> {
    const d = new Deployment(dir, join(primaryDir, "primary.db"));
    try {
      const operatorPort = await freePort();
      d.operators.push({ port: operatorPort, url: `http://127.0.0.1:${operatorPort}`, proc: undefined });
      for (const name of DEV_MEMBERS) {
        const port = await freePort();
        const proxy = await FaultProxy.start(() => `http://127.0.0.1:${port}`);
        d.members.push({ name, port, dataDir: join(dir, "members", name), proxy, key: "", proc: undefined });
      }
      await Promise.all(d.members.map((m) => d.startMember(m.name)));
      await d.startOperator(0);
      const registered = await fetch(`${d.operators[0]!.url}/v1/admin/clients`, {
        method: "POST",
        headers: { Authorization: `Bearer ${d.adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ key: verifierKeyOf(d.clientKey) }),
      });
      if (registered.status !== 201 && registered.status !== 200) throw new Error(`registering the client: ${registered.status} ${await registered.text()}`);
      d.trust = await (await fetch(`${d.operators[0]!.url}/v1/trust`)).json();
      return d;
    } catch (e) {
      await d.close();
      throw e;
    }
  }

  member(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  private logFile(label: string): number {
    mkdirSync(join(this.dir, "logs"), { recursive: true });
    return openSync(join(this.dir, "logs", `${String(++this.logCount).padStart(3, "0")}-${label}.log`), "a");
  }

  /** Starts (or starts again) a member's witness on its port and data dir; resolves once it is ready. */
  async startMember(name: string, options: StartOptions = {}): Promise<void> {
    const m = this.member(name);
    const log = this.logFile(name);
    const child = spawn(process.execPath, ["--import", "tsx", "src/runtime/member-main.ts"], {
      cwd: ROOT,
      env: {
        ...baseEnv(),
        CAIRN_MEMBER_NAME: m.name,
        CAIRN_MEMBER_DATA_DIR: m.dataDir,
        CAIRN_LOG_ORIGIN: this.origin,
        CAIRN_LOG_KEYS: this.operatorVerifierKey,
        CAIRN_LOG_URL: this.operators[0]!.url,
        PORT: String(m.port),
        HOST: "127.0.0.1",
        ...clockEnv(options.clockFile),
        ...options.env,
      },
      stdio: ["ignore", log, log, "ipc"],
    });
    closeSync(log);
    m.proc = child;
    const ready = await new Promise<{ key: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`witness ${name} not ready within ${READY_MS / 1000} s (logs in ${this.dir}/logs)`)), READY_MS);
      child.once("message", (msg: { key: string }) => {
        clearTimeout(timer);
        resolve(msg);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`witness ${name} exited (${code ?? signal}) before it was ready (logs in ${this.dir}/logs)`));
      });
    });
    m.key = ready.key;
  }

  /** The operator's settings: the embedded default's, with each witness behind its proxy. */
  private operatorEnv(port: number): Record<string, string> {
    const s = this.settings;
    return {
      CAIRN_ORIGIN: s.CAIRN_ORIGIN!,
      CAIRN_OPERATOR_KEY: s.CAIRN_OPERATOR_KEY!,
      CAIRN_PRIMARY_URL: pathToFileURL(this.primaryFile).href,
      CAIRN_ADMIN_TOKEN: this.adminToken,
      CAIRN_MEMBERS: JSON.stringify(this.members.map((m) => ({ name: m.name, key: m.key, witness: m.proxy.url }))),
      CAIRN_OPEN_METRICS: "1",
      PORT: String(port),
      HOST: "127.0.0.1",
    };
  }

  /** Starts operator `i` (0 the usual one; 1 a second process on the same primary) and waits until it answers /healthz. */
  async startOperator(i: number, options: StartOptions = {}): Promise<void> {
    if (this.operators[i] === undefined) {
      const port = await freePort();
      this.operators[i] = { port, url: `http://127.0.0.1:${port}`, proc: undefined };
    }
    const op = this.operators[i]!;
    const log = this.logFile(`operator-${i}`);
    const child = spawn(process.execPath, ["--import", "tsx", "src/runtime/main.ts"], {
      cwd: ROOT,
      env: { ...baseEnv(), ...this.operatorEnv(op.port), ...clockEnv(options.clockFile), ...options.env },
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    op.proc = child;
    let exited: string | undefined;
    child.once("exit", (code, signal) => (exited = String(code ?? signal)));
    const deadline = Date.now() + READY_MS;
    for (;;) {
      if (exited !== undefined) throw new Error(`operator ${i} exited (${exited}) before it was ready (logs in ${this.dir}/logs)`);
      if (Date.now() > deadline) throw new Error(`operator ${i} not ready within ${READY_MS / 1000} s`);
      const ok = await fetch(`${op.url}/healthz`).then((r) => r.ok, () => false);
      if (ok) return;
      await sleep(50);
    }
  }

  /** SIGKILL (or another signal) to a process, resolved once it is gone. */
  static async stop(proc: ChildProcess | undefined, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((done) => proc.once("exit", () => done()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  }

  async stopOperator(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await Deployment.stop(this.operators[i]?.proc, signal);
  }

  async stopMember(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await Deployment.stop(this.member(name).proc, signal);
  }

  get url(): string {
    return this.operators[0]!.url;
  }

  async close(): Promise<void> {
    await Promise.all([...this.operators.map((o) => Deployment.stop(o.proc)), ...this.members.map((m) => Deployment.stop(m.proc))]);
    await Promise.all(this.members.map((m) => m.proxy.close()));
  }
}

function verifierKeyOf(signerKey: string): string {
  const k = parseSignerKey(signerKey);
  return formatVerifierKey(k.name, k.type, k.publicKey);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
