/**
 * The gateway's metrics: what CloudWatch extracts from the embedded metric format lines on stdout.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { GatewayMetrics, GATEWAY_NAMESPACE } from "../../realtime/gateway-metrics.js";
import { captureStdout } from "../support/capture-stdout.js";

afterEach(() => vi.restoreAllMocks());

describe("gateway metrics", () => {
  it("publishes each ended session's streamed audio and live provider cost, and the active sessions", () => {
    const out = captureStdout();
    const metrics = new GatewayMetrics("stt-test");
    metrics.sessionEnded({
      sessionId: "sess_1",
      upstream: "http",
      reason: "client_closed",
      status: "SUBMITTED",
      audioSeconds: 60,
      live: { audioSecondsBilled: 57.5, requests: 41, partialRequests: 33 },
    });
    metrics.activeSessions(7);
    out.restore();

    const [ended, active] = out.lines();
    expect(ended._aws.CloudWatchMetrics[0].Namespace).toBe(GATEWAY_NAMESPACE);
    const names = ended._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(expect.arrayContaining(["StreamedAudioSeconds", "LiveAudioSecondsBilled", "LiveRequests", "LivePartialRequests"]));
    expect(ended).toMatchObject({ StreamedAudioSeconds: 60, LiveAudioSecondsBilled: 57.5, LiveRequests: 41, LivePartialRequests: 33, sessionId: "sess_1", service: "stt-test" });
    expect(active).toMatchObject({ ActiveSessions: 7 });
    expect(active.LiveRequests).toBeUndefined();
  });
});
