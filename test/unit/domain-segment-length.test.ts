import { cutSearchSeconds } from "../../shared/domain/cutting/plan-cuts.js";
import { describe, expect, it } from "vitest";
import { AUTO_SEGMENT, autoSegmentSeconds, segmentSeconds } from "../../shared/domain/cutting/segment-length.js";

const HOUR = 3600;

describe("autoSegmentSeconds", () => {
  it("aims at one wave of segments at the cap, within 60-120 s", () => {
    expect(autoSegmentSeconds({ durationSeconds: HOUR, cap: 32, fallbackSeconds: 90 })).toBe(120);
    expect(autoSegmentSeconds({ durationSeconds: 45 * 60, cap: 32, fallbackSeconds: 90 })).toBe(103);
    expect(autoSegmentSeconds({ durationSeconds: 2 * HOUR, cap: 32, fallbackSeconds: 90 })).toBe(120);
    expect(autoSegmentSeconds({ durationSeconds: HOUR, cap: 8, fallbackSeconds: 90 })).toBe(120);
  });

  it("keeps short recordings at the minimum and long ones at the maximum", () => {
    expect(autoSegmentSeconds({ durationSeconds: 30, cap: 32, fallbackSeconds: 90 })).toBe(AUTO_SEGMENT.minSeconds);
    expect(autoSegmentSeconds({ durationSeconds: 12 * HOUR, cap: 1000, fallbackSeconds: 90 })).toBe(AUTO_SEGMENT.minSeconds);
    expect(autoSegmentSeconds({ durationSeconds: 24 * HOUR, cap: 32, fallbackSeconds: 90 })).toBe(AUTO_SEGMENT.maxSeconds);
  });

  it("fits in one wave even when every cut lands as early as its search allows", () => {
    for (const cap of [16, 28, 32]) {
      for (const duration of [50 * (cap - 1), 70 * (cap - 1), 100 * (cap - 1)]) {
        const length = autoSegmentSeconds({ durationSeconds: duration, cap, fallbackSeconds: 90 });
        expect(length).toBeLessThan(AUTO_SEGMENT.maxSeconds);
        expect(Math.ceil(duration / (length - cutSearchSeconds(length)))).toBeLessThanOrEqual(AUTO_SEGMENT.waves * cap);
      }
    }
  });

  it("falls back to the configured length when the duration is unknown", () => {
    expect(autoSegmentSeconds({ cap: 32, fallbackSeconds: 90 })).toBe(90);
    expect(autoSegmentSeconds({ durationSeconds: Number.NaN, cap: 32, fallbackSeconds: 45 })).toBe(45);
    expect(autoSegmentSeconds({ durationSeconds: 0, cap: 32, fallbackSeconds: 45 })).toBe(45);
  });

  it("treats a cap below one as one", () => {
    expect(autoSegmentSeconds({ durationSeconds: 200, cap: 0, fallbackSeconds: 90 })).toBe(120);
  });
});

describe("segmentSeconds", () => {
  it("keeps an explicit length, whatever the duration and cap", () => {
    expect(segmentSeconds(300, { durationSeconds: HOUR, cap: 32, fallbackSeconds: 90 })).toBe(300);
    expect(segmentSeconds(20, { cap: 32, fallbackSeconds: 90 })).toBe(20);
  });

  it("works out an automatic one", () => {
    expect(segmentSeconds("auto", { durationSeconds: HOUR, cap: 32, fallbackSeconds: 90 })).toBe(120);
    expect(segmentSeconds("auto", { cap: 32, fallbackSeconds: 90 })).toBe(90);
  });
});
