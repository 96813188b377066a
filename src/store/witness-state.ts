/**
 * A member witness's state in its own D1 database (a Worker has no files):
 * the one row of `witness_state`, as opaque JSON text. Saves move by
 * compare-and-set on `version`: a save that did not start from the version
 * this instance last loaded fails, so two isolates judging at once cannot
 * both update the witness's latest cosigned checkpoint (the loser answers
 * "retry" and judges again from the new state).
 */
import type { D1Database } from "@cloudflare/workers-types";
import { CairnError } from "../core/errors.js";

export interface VersionedText {
  /** The text as stored now, or undefined when there is none yet. */
  load(): Promise<string | undefined>;
  /** Replaces it if nobody else did since the last load; throws UNAVAILABLE otherwise. */
  save(text: string): Promise<void>;
}

export function d1WitnessState(db: D1Database): VersionedText {
  let version = 0;
  return {
    async load() {
      const row = await db.prepare("SELECT version, state FROM witness_state WHERE id = 1").first<{ version: number; state: string }>();
      version = row?.version ?? 0;
      return row?.state;
    },
    async save(text) {
      const result =
        version === 0
          ? await db.prepare("INSERT INTO witness_state (id, version, state) VALUES (1, 1, ?) ON CONFLICT (id) DO NOTHING").bind(text).run()
          : await db.prepare("UPDATE witness_state SET version = version + 1, state = ? WHERE id = 1 AND version = ?").bind(text, version).run();
      if ((result.meta.changes ?? 0) !== 1) throw new CairnError("UNAVAILABLE", "another instance of this witness updated its state meanwhile; retry");
      version += 1;
    },
  };
}
