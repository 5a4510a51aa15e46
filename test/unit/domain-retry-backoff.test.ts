import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "../../shared/domain/jobs/retry-backoff.js";
import { wiring } from "../../shared/wiring.js";

describe("retry backoff", () => {
  const backoff = { firstSeconds: 10, maxSeconds: 300 };

  it("doubles with each receive from the first delay, up to the maximum", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelaySeconds(n, backoff, 0))).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it("adds at most a fifth at random, in whole seconds", () => {
    expect(retryDelaySeconds(1, backoff, 0.999)).toBe(12);
    expect(retryDelaySeconds(4, backoff, 0.5)).toBe(88);
    expect(Number.isInteger(retryDelaySeconds(3, backoff, 0.37))).toBe(true);
  });

  it("brings the last try of a work queue back within minutes, not the 30-minute visibility timeout", () => {
    for (const queue of Object.values(wiring.queues)) {
      let waited = 0;
      for (let receive = 1; receive < queue.maxReceiveCount; receive++) waited += retryDelaySeconds(receive, queue.retryBackoff, 0.999);
      expect(waited).toBeLessThan(5 * 60);
      expect(waited).toBeLessThan(queue.visibilityTimeoutSeconds);
    }
  });
});
