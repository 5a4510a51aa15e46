/** The progress line `stt transcribe` shows on stderr while a job runs. */
import { describe, expect, it } from "vitest";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { progressLine } from "../../cli/progress.js";

const job = (fields: Partial<JobRecord>): JobRecord => ({
  jobId: "j1",
  status: "RUNNING",
  source: { bucket: "stt-input", key: "a.mp3" },
  options: {},
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...fields,
});

describe("stt transcribe's progress line", () => {
  it("counts segments, then settled speakers", () => {
    // Prepare
    const line = progressLine();

    // Act + Assess
    expect(line(job({ status: "CHUNKING" }))).toBe("chunking...");
    expect(line(job({ segmentCount: 12, doneSegments: new Set([0, 1, 2]) }))).toBe("segments 3/12");
    expect(line(job({ segmentCount: 12, doneSegments: new Set([0, 1, 2]), speakersSettled: 2 }))).toBe("segments 3/12, speakers settled 2/12");
  });

  it("says why the pipeline is retrying as soon as the job records it", () => {
    // Prepare
    const line = progressLine();
    line(job({ segmentCount: 4 }));

    // Act
    const shown = line(job({ segmentCount: 4, lastError: "provider unreachable (ECONNREFUSED)" }));

    // Assess
    expect(shown).toBe("segments 0/4, retrying: provider unreachable (ECONNREFUSED)");
  });

  it("drops the reason once a segment finishes after it, and shows a new reason again", () => {
    // Prepare
    const line = progressLine();
    const lastError = "provider answered 503: overloaded";
    line(job({ segmentCount: 4, doneSegments: new Set([0]), lastError }));

    // Act
    const recovered = line(job({ segmentCount: 4, doneSegments: new Set([0, 1]), lastError }));
    const again = line(job({ segmentCount: 4, doneSegments: new Set([0, 1]), lastError: "provider answered 429: slow down" }));

    // Assess
    expect(recovered).toBe("segments 2/4");
    expect(again).toBe("segments 2/4, retrying: provider answered 429: slow down");
  });
});
