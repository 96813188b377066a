import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The suites that run real witness processes take 1.5–2 minutes each. With
 * timings cached from an earlier run, vitest starts the longest files first;
 * on a fresh clone (CI) it has none and starts the largest files first,
 * which left these small files for the end, one of the two workers idle
 * beside the last of them. They go first, always.
 */
const SLOWEST = ["test/faults.test.ts", "test/scripts.test.ts", "test/cli/cli.test.ts"];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.indexOf(relative(f.project.config.root, f.moduleId).replaceAll("\\", "/"));
      return i < 0 ? SLOWEST.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep file-level parallelism to two workers.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: "forks",
    sequence: { sequencer: SlowestFirst },
  },
});
