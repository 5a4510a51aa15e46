/**
 * The gateway's CloudWatch metrics, as embedded metric format on stdout (Powertools Metrics; on ECS the
 * awslogs driver ships stdout to CloudWatch Logs, which extracts them): the live session count that
 * autoscaling tracks, and what each ended session streamed and cost at the provider.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SessionSummary } from "./session.js";

export const GATEWAY_NAMESPACE = "stt/realtime";

export class GatewayMetrics {
  private readonly metrics: Metrics;

  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: GATEWAY_NAMESPACE, serviceName });
  }

  /** Sessions open on this task now (the autoscaling target tracks its average). */
  activeSessions(count: number): void {
    this.metrics.addMetric("ActiveSessions", MetricUnit.Count, count);
    this.metrics.publishStoredMetrics();
  }

  /**
   * One ended session: sums over a period give the billed ratio of the live side
   * (LiveAudioSecondsBilled / StreamedAudioSeconds) and the partial requests it took.
   */
  sessionEnded(summary: SessionSummary): void {
    const m = this.metrics;
    m.addMetric("SessionsEnded", MetricUnit.Count, 1);
    m.addMetric("StreamedAudioSeconds", MetricUnit.Seconds, summary.audioSeconds);
    m.addMetric("LiveAudioSecondsBilled", MetricUnit.Seconds, summary.live.audioSecondsBilled);
    m.addMetric("LiveRequests", MetricUnit.Count, summary.live.requests);
    m.addMetric("LivePartialRequests", MetricUnit.Count, summary.live.partialRequests);
    m.addMetadata("sessionId", summary.sessionId);
    m.addMetadata("upstream", summary.upstream);
    m.addMetadata("status", summary.status);
    m.publishStoredMetrics();
  }
}
