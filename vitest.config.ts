import { defineConfig } from "vitest/config";

// Tests import workspace packages through their "source" export condition, so they run
// against the TypeScript sources rather than a possibly stale dist/.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "testing/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
