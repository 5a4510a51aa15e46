/** The two kinds of job events (shared/adapters/notifier.ts, shared/domain/jobs/job-event.ts): what SNS and EventBridge get. */
import { describe, expect, it } from "vitest";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { jobEventOf, Notifier } from "../../shared/adapters/notifier.js";
import { parseJobEvent } from "../../shared/domain/jobs/job-event.js";
import { wiring } from "../../shared/wiring.js";
import { jobRecord } from "../support/job-fixtures.js";

/** A notifier whose clients keep the commands' inputs. */
function recordingNotifier() {
  const sent: Array<Record<string, any>> = [];
  const client = { send: async (command: { input: Record<string, unknown> }) => (sent.push(command.input), { FailedEntryCount: 0 }) };
  const notifier = new Notifier(client as unknown as SNSClient, client as unknown as EventBridgeClient, {
    topicArn: "arn:aws:sns:us-east-1:000000000000:stt-job-events",
    eventBusName: "stt-events",
    eventSource: wiring.eventSource,
    detailType: wiring.eventDetailType,
    transcriptChangedDetailType: wiring.transcriptChangedDetailType,
  });
  return { sent, notifier };
}

const completed = jobRecord({ status: "COMPLETED", speakers: ["SPEAKER_00"], speakerNames: { SPEAKER_00: "Ada" }, transcriptRevision: 3 });

describe("job event kinds", () => {
  it("publish a job's end with the event attribute beside status, and its detail-type", async () => {
    // Prepare
    const { sent, notifier } = recordingNotifier();
    // Act
    await notifier.publish(jobEventOf(completed, "stt-output"));
    // Assess
    const [sns, bridge] = sent;
    expect(sns.MessageAttributes).toEqual({
      jobId: { DataType: "String", StringValue: completed.jobId },
      status: { DataType: "String", StringValue: "COMPLETED" },
      event: { DataType: "String", StringValue: "JOB_ENDED" },
    });
    expect(sns.Subject).toBe("Transcription job COMPLETED");
    expect(bridge.Entries[0].DetailType).toBe("Transcription Job State Change");
    expect(JSON.parse(sns.Message)).toMatchObject({ event: "JOB_ENDED", speakerNames: { SPEAKER_00: "Ada" }, transcriptRevision: 3 });
  });

  it("publish a transcript change as TRANSCRIPT_CHANGED, detail-type Transcript Changed", async () => {
    // Prepare
    const { sent, notifier } = recordingNotifier();
    // Act
    await notifier.publish(jobEventOf(completed, "stt-output", "TRANSCRIPT_CHANGED"));
    // Assess
    const [sns, bridge] = sent;
    expect(sns.MessageAttributes.event).toEqual({ DataType: "String", StringValue: "TRANSCRIPT_CHANGED" });
    expect(sns.MessageAttributes.status).toEqual({ DataType: "String", StringValue: "COMPLETED" });
    expect(sns.Subject).toBe("Transcript changed");
    expect(bridge.Entries[0].DetailType).toBe("Transcript Changed");
    expect(parseJobEvent(sns.Message)).toMatchObject({ ok: true, event: { event: "TRANSCRIPT_CHANGED", transcriptRevision: 3 } });
  });

  it("read a message from before there were kinds as a job's end", () => {
    const old = { jobId: "j", status: "FAILED", source: { bucket: "b", key: "k" }, error: "x", errorCode: "y" };
    expect(parseJobEvent(JSON.stringify(old))).toMatchObject({ ok: true, event: { event: "JOB_ENDED", status: "FAILED" } });
  });
});
