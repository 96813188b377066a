/**
 * What the service benchmarks share: fresh signed submissions, and the
 * embedded default as a server process of its own (bench/service-server.ts).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { sha256, signSubmission, utf8, type NoteSigner } from "../src/core/index.js";

const root = new URL("..", import.meta.url);

/** `n` distinct submissions signed now, 256 at a time. */
export async function signMany(signer: NoteSigner, origin: string, n: number, tag: string): Promise<string[]> {
  const time = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < n; i += 256) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(256, n - i) }, (_, j) => signSubmission({ origin, digest: sha256(utf8(`${tag} ${i + j}`)), time }, signer)))));
  }
  return out;
}

/** Starts bench/service-server.ts on `dataDir` (with extra node flags, for profiling, and environment) and waits for its URLs. */
export async function startServerProcess(dataDir: string, nodeFlags: readonly string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", "bench/service-server.ts", dataDir], { cwd: new URL(".", root), stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  // The witnesses' log lines share its stdout; the server's own line is the first JSON object.
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (l) => {
      if (l.startsWith("{")) resolve(l);
    });
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; bareUrl: string }) };
}

/**
 * GET a status or metrics page, once more if the kept-alive connection was
 * reset. This process blocks its own event loop for seconds (signing many
 * submissions) and a busy witness blocks its own; either way a server may
 * close an idle connection while the next request is already being written
 * on it, and Node answers that with a reset: the poll failed, not the service.
 */
export async function getText(url: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(url)).text();
    } catch (e) {
      const cause = String((e as Error).cause ?? "no cause given");
      if (attempt < 3 && /ECONNRESET|other side closed|socket hang up/.test(cause)) continue;
      throw new Error(`GET ${url}: ${(e as Error).message} (${cause})`);
    }
  }
}

export async function getJson<T>(url: string): Promise<T> {
  return JSON.parse(await getText(url)) as T;
}
