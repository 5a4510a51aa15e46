import { describe, expect, it } from "vitest";
import { expectedSegments, fairShares, releaseTarget, type TranscribingJob } from "../../shared/domain/jobs/fair-share.js";

const job = (jobId: string, segments: number, since = `2026-01-01T00:00:0${jobId.length % 10}.000Z`): TranscribingJob => ({ jobId, segments, since });
const sum = (shares: Map<string, number>) => [...shares.values()].reduce((a, b) => a + b, 0);

describe("fairShares", () => {
  it("gives a job alone the whole cap, whatever its length", () => {
    expect(fairShares(32, [job("long", 120)]).get("long")).toBe(32);
    expect(fairShares(32, [job("short", 3)]).get("short")).toBe(3);
  });

  it("gives short jobs all they need beside a long one, and the long one the rest", () => {
    const jobs = [job("long", 120, "2026-01-01T00:00:00.000Z"), ...[1, 2, 3, 4].map((i) => job(`short-${i}`, 3, `2026-01-01T00:00:1${i}.000Z`))];
    const shares = fairShares(32, jobs);
    for (const i of [1, 2, 3, 4]) expect(shares.get(`short-${i}`)).toBe(3);
    expect(shares.get("long")).toBe(20);
    expect(sum(shares)).toBe(32);
  });

  it("gives the oldest of equal jobs what is left beyond one slot each: first come, first served among equals", () => {
    const shares = fairShares(10, [job("b", 50, "2026-01-01T00:00:02.000Z"), job("a", 50, "2026-01-01T00:00:01.000Z"), job("c", 50, "2026-01-01T00:00:03.000Z")]);
    expect([shares.get("a"), shares.get("b"), shares.get("c")]).toEqual([8, 1, 1]);
  });

  it("serves smaller jobs before larger ones, whatever their age", () => {
    const shares = fairShares(10, [job("big", 50, "2026-01-01T00:00:01.000Z"), job("mid", 6, "2026-01-01T00:00:02.000Z"), job("small", 2, "2026-01-01T00:00:03.000Z")]);
    expect([shares.get("small"), shares.get("mid"), shares.get("big")]).toEqual([2, 6, 2]);
  });

  it("never leaves a job without a slot, even with more jobs than the cap", () => {
    const jobs = Array.from({ length: 40 }, (_, i) => job(`j${i}`, 5, `2026-01-01T00:00:${String(i).padStart(2, "0")}.000Z`));
    const shares = fairShares(32, jobs);
    expect(shares.size).toBe(40);
    for (const share of shares.values()) expect(share).toBe(1);
  });

  it("gives twenty 3-segment jobs beside a long one at least one each, the oldest all they need, and never more than the cap in all", () => {
    const jobs = [job("long", 120, "2026-01-01T00:00:00.000Z"), ...Array.from({ length: 20 }, (_, i) => job(`s${i}`, 3, `2026-01-01T00:01:${String(i).padStart(2, "0")}.000Z`))];
    const shares = fairShares(32, jobs);
    expect(sum(shares)).toBe(32);
    for (const [id, share] of shares) expect(share, id).toBeGreaterThanOrEqual(1);
    // One slot each (21), the 11 left to the short ones in arrival order: five get all 3, the sixth 2.
    expect(Array.from({ length: 20 }, (_, i) => shares.get(`s${i}`))).toEqual([3, 3, 3, 3, 3, 2, ...Array(14).fill(1)]);
    expect(shares.get("long")).toBe(1);
  });
});

describe("releaseTarget", () => {
  it("keeps `share` segments out, within what is cut", () => {
    expect(releaseTarget({ cut: 10, released: 0, done: 0 }, 4)).toBe(4);
    expect(releaseTarget({ cut: 10, released: 4, done: 1 }, 4)).toBe(5);
    expect(releaseTarget({ cut: 3, released: 0, done: 0 }, 4)).toBe(3);
  });

  it("takes nothing back from a job over its share: it releases nothing until it is under it", () => {
    expect(releaseTarget({ cut: 100, released: 32, done: 10 }, 8)).toBe(32);
    expect(releaseTarget({ cut: 100, released: 32, done: 25 }, 8)).toBe(33);
  });

  it("releases nothing for a job without a share (queued)", () => {
    expect(releaseTarget({ cut: 10, released: 0, done: 0 }, 0)).toBe(0);
  });
});

describe("expectedSegments", () => {
  it("is the duration over the segment length, per lane, or the fallback without a duration", () => {
    expect(expectedSegments(180, 60, 1, 32)).toBe(3);
    expect(expectedSegments(181, 60, 2, 32)).toBe(8);
    expect(expectedSegments(undefined, 60, 1, 32)).toBe(32);
  });
});
