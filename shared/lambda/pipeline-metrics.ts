/**
 * The pipeline's CloudWatch metrics, as embedded metric format on stdout (Powertools Metrics; Lambda ships
 * stdout to CloudWatch Logs, which extracts them). Namespace `stt/pipeline`, dimension `service` (the
 * function: stt-transcriber, stt-stitcher, ...), plus `code` on ProviderRetries. Each invocation's values
 * are written once, when it ends (`flush`), as one line per dimension set.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { CompletedJob, PipelineMetrics } from "../pipeline/context.js";
import type { ProviderRequestInfo } from "../provider/client.js";

export const PIPELINE_NAMESPACE = "stt/pipeline";

export class PowertoolsPipelineMetrics implements PipelineMetrics {
  /** Metrics with the `service` dimension only. */
  private readonly metrics: Metrics;
  /** One instance per extra dimension value (a retry's code): Powertools' dimensions hold for a whole line. */
  private readonly byDimension = new Map<string, Metrics>();

  constructor(
    private readonly serviceName: string,
    private readonly logger?: Logger,
  ) {
    this.metrics = new Metrics({ namespace: PIPELINE_NAMESPACE, serviceName, logger });
  }

  /**
   * Every HTTP request to the provider, answered or not, segment or speaker probe. No model dimension:
   * the model is an uploader's metadata, and each distinct value would be a metric of its own; the
   * request's trace subsegment carries it.
   */
  providerRequest(request: ProviderRequestInfo): void {
    this.metrics.addMetric("ProviderLatency", MetricUnit.Milliseconds, Math.round(request.latencyMs));
  }

  /** By the provider client's error code: provider_429, provider_500..., provider_408, provider_network. */
  providerRetry(retry: { code: string }): void {
    this.withDimension("code", retry.code).addMetric("ProviderRetries", MetricUnit.Count, 1);
  }

  /**
   * What the job cost at the provider, as its record says (domain/jobs/job-billing.ts): summed over a period,
   * ProviderAudioSecondsBilled / RecordingSeconds is the billed ratio, ProbeAudioSecondsBilled its speaker part.
   */
  jobCompleted(job: CompletedJob): void {
    const m = this.metrics;
    m.addMetric("JobsCompleted", MetricUnit.Count, 1);
    m.addMetric("JobDuration", MetricUnit.Seconds, job.durationSeconds);
    m.addMetric("Segments", MetricUnit.Count, job.segments);
    m.addMetric("RecordingSeconds", MetricUnit.Seconds, job.recordingSeconds);
    m.addMetric("ProviderAudioSecondsBilled", MetricUnit.Seconds, job.audioSecondsBilled);
    m.addMetric("SegmentAudioSecondsBilled", MetricUnit.Seconds, job.billing.segmentSeconds);
    m.addMetric("ProbeAudioSecondsBilled", MetricUnit.Seconds, job.billing.probeSeconds);
    m.addMetric("SegmentRequests", MetricUnit.Count, job.billing.segmentRequests);
    m.addMetric("ProbeRequests", MetricUnit.Count, job.billing.probeRequests);
  }

  /** The reason is in the log line "job failed" (errorCode) and on the job record. */
  jobFailed(_job: { code: string }): void {
    this.metrics.addMetric("JobsFailed", MetricUnit.Count, 1);
  }

  /** Writes what this invocation stored; nothing (and no "no metrics" warning) when it stored nothing. */
  flush(): void {
    for (const metrics of [this.metrics, ...this.byDimension.values()]) {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }

  private withDimension(name: string, value: string): Metrics {
    const key = `${name}=${value}`;
    let metrics = this.byDimension.get(key);
    if (!metrics) {
      metrics = new Metrics({
        namespace: PIPELINE_NAMESPACE,
        serviceName: this.serviceName,
        defaultDimensions: { [name]: value },
        logger: this.logger,
      });
      this.byDimension.set(key, metrics);
    }
    return metrics;
  }
}
