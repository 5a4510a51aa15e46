import { describe, expect, it } from "vitest";
import { formatRedactionSection, runRedactionBench } from "../../bench/redaction.js";

/** The redaction benchmark once, at a toy size, so it does not rot between the runs that write BENCHMARKS.md. */
describe("redaction benchmark, at a toy size", () => {
  it("runs a call per preset and reports its figures", async () => {
    // Act
    const options = { calls: 1, passes: 1, chunkSeconds: 40, presets: ["clean"] as const };
    const figures = await runRedactionBench({ ...options, presets: [...options.presets] });

    // Assess
    const [clean] = figures;
    expect(clean.failedJobs).toBe(0);
    expect(clean.piiItems).toBeGreaterThan(5);
    expect(clean.piiCaught).toBe(clean.piiItems);
    expect(clean.otherWordsTouched / clean.otherWords).toBeLessThan(0.02);
    expect(clean.maxSpanRms).toBeLessThan(1);
    expect(clean.outsideChanged).toBe(0);
    expect(formatRedactionSection(figures, "test", "0.1", { ...options, presets: ["clean"] })).toContain("## Redaction");
  });
});
