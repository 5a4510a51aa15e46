import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/infra/**/*.test.ts"],
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // After the unit tests, not beside them: the end-to-end cases run the pipeline's concurrency for real
          // (speaker probes race segment requests), and with the unit workers on the same two cores the
          // noisy-diarizer fidelity case missed its bar in CI while it passed on its own.
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "reliability",
          include: ["test/reliability/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
