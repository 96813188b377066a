/**
 * Runs the real `cairn` (node bin/cairn.js) as a child process, as a user
 * runs it, with nothing of the caller's own Cairn settings and with the
 * user's trust store and checkpoint memory under a test's root, never the
 * real ~/.config or ~/.local/state.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/cairn.js", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** The environment a test's `cairn` sees: `root` holds its config and state dirs; `env` adds settings. */
export function cairnEnv(root: string, env: Record<string, string> = {}): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("CAIRN_") && e[1] !== undefined));
  return { ...base, NO_COLOR: "1", XDG_CONFIG_HOME: path.join(root, "config"), XDG_STATE_HOME: path.join(root, "state"), ...env };
}

/** A runner for one suite; `root` and `defaults` are read at each call (a suite's root and server are known only once it starts). */
export function cairnRunner(root: () => string, defaults: () => Record<string, string> = () => ({})) {
  return (args: string[], options: RunOptions = {}): Promise<Run> =>
    new Promise((done) => {
      const env = cairnEnv(root(), { ...defaults(), ...options.env });
      execFile(process.execPath, [BIN, ...args], { cwd: options.cwd ?? root(), env, timeout: 40_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        done({ code, stdout, stderr });
      });
    });
}

/** Starts a long-running `cairn` (monitor) whose output the test reads as it comes. */
export function spawnCairn(root: string, args: string[], env: Record<string, string> = {}): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: cairnEnv(root, env), stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d: Buffer) => (output.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output.stderr += d.toString()));
  return Object.assign(child, { output });
}
