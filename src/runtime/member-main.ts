/**
 * A member's witness as a process of its own: what `cairn member` and the
 * embedded default (`npm start`) run. Serves until SIGINT/SIGTERM, or until
 * the process that started it over IPC goes away (so `npm start` never
 * leaves witnesses behind).
 */
import { CairnError } from "../core/errors.js";
import { startMember } from "./member.js";

/**
 * Test hook, not a setting: CAIRN_WITNESS_FAULT=kill-after-persist makes the
 * process SIGKILL itself right after it has durably stored a cosigned
 * checkpoint and before it answers (test/service/witness-attacks.test.ts).
 */
function faultHook(value: string | undefined) {
  if (value === undefined || value === "") return undefined;
  if (value !== "kill-after-persist") throw new CairnError("BAD_CONFIG", `CAIRN_WITNESS_FAULT: the only test hook is kill-after-persist, got ${JSON.stringify(value)}`);
  return (step: "persisted") => {
    if (step !== "persisted") return;
    process.kill(process.pid, "SIGKILL");
    return new Promise<never>(() => {}); // never answer, whatever the signal's timing
  };
}

try {
  const fault = faultHook(process.env.CAIRN_WITNESS_FAULT);
  const member = await startMember(fault ? { fault } : {});
  const status = await member.witness.status();
  console.error(
    [
      `Cairn witness ${status.name} is serving at ${member.url}`,
      `  follows: ${status.origin} at ${status.log}`,
      `  key:     ${status.key}${member.keyCreated ? " (new: made in its data dir)" : ""}`,
      `  replica: ${status.replica.size} blocks; last cosigned: ${status.latest?.size ?? "none"}${status.halted ? `; HALTED: ${status.halted.code}` : ""}`,
    ].join("\n"),
  );
  process.send?.({ type: "ready", url: member.url, key: status.key, pqKey: status.pqKey, name: status.name });
  // A request still being judged (a long catch-up) is not waited for: the
  // replica's appends are atomic and the state file is replaced by rename,
  // so ending mid-way loses only work that the next request redoes.
  // Listeners stay installed for the whole shutdown (see main.ts: a Ctrl-C
  // arrives twice, directly and relayed).
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${why}: witness ${status.name} closing`);
    await Promise.race([member.close(), new Promise((r) => setTimeout(r, 1000))]);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.once("disconnect", () => void stop("parent gone"));
} catch (e) {
  if (e instanceof CairnError && e.code === "BAD_CONFIG") {
    console.error(`cairn member: configuration error: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
