/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each on the one
 * construct it concerns and each with its reason. A finding not listed here
 * fails `cdk synth` (app.ts registers the checks) and the infra tests.
 *
 * cdk-nag v3 acknowledges findings individually: an IAM5 wildcard is
 * acknowledged for the exact resource string it reports, so a new wildcard
 * anywhere is a new, unacknowledged finding.
 */
import { Stack, Validations, type CfnResource } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { receivesRemovals, type BucketId } from "../shared/wiring.js";
import type { SpeechToTextStack } from "./stack.js";

export interface NagAcknowledgment {
  /** Construct path below the stack. */
  path: string;
  id: string;
  reason: string;
}

/** Acknowledgments recorded by addNagSuppressions, for review and for the tests. */
export const recorded = new WeakMap<Stack, NagAcknowledgment[]>();

export function addNagSuppressions(stack: SpeechToTextStack): void {
  const list: NagAcknowledgment[] = [];
  recorded.set(stack, list);
  const ack = (scope: IConstruct, id: string, reason: string) => {
    Validations.of(scope).acknowledge({ id, reason });
    list.push({ path: scope.node.path, id, reason });
  };
  const arnOf = (construct: IConstruct) => `<${stack.getLogicalId(construct.node.defaultChild as CfnResource)}.Arn>`;

  for (const [functionId, fn] of Object.entries(stack.functions)) {
    const policy = fn.role.node.tryFindChild("DefaultPolicy");
    if (!policy) continue;
    const { access } = fn.spec;
    for (const b of new Set<BucketId>([...access.read, ...access.write])) {
      ack(
        policy,
        `AwsSolutions-IAM5[Resource::${arnOf(stack.buckets[b])}/*]`,
        `${functionId} reads/writes objects whose keys are per job (jobs/<jobId>/..., or the uploaded key): only s3:GetObject/s3:PutObject on this one bucket's objects are granted.`,
      );
    }
    // deleteJobsWithSource: a deleted recording's jobs are deleted, their objects under the wiring's prefixes only.
    if (receivesRemovals(fn.spec.trigger, stack.settings)) {
      for (const d of fn.spec.trigger.removals.deletes) {
        ack(
          policy,
          `AwsSolutions-IAM5[Resource::${arnOf(stack.buckets[d.bucket])}/${d.prefix}*]`,
          `${functionId} deletes the objects of jobs whose recording was deleted (deleteJobsWithSource): s3:DeleteObject only under ${d.prefix}, where every key is per job.`,
        );
      }
    }
    ack(
      policy,
      "AwsSolutions-IAM5[Resource::*]",
      "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions (AWS requires Resource *). No other statement uses *.",
    );
    ack(
      fn.fn,
      "AwsSolutions-L1",
      "Node.js 22 is the runtime this project targets and tests (bundles are built for node22); moving to 24 is a deliberate, tested change, not something a lint default should trigger.",
    );
  }

  if (!stack.settings.providerSecretName) {
    ack(
      stack.providerSecret,
      "AwsSolutions-SMG4",
      "The secret holds a third-party provider API key; the provider has no API to rotate it, so rotation is manual (put-secret-value). Functions cache it with a TTL and pick up a new value without a deploy.",
    );
  }

  ack(
    stack.chunkerFailures,
    "AwsSolutions-SQS3",
    "This queue is itself a dead-letter destination (the chunker's asynchronous on-failure destination); the dead-letter function drains it and fails the job, and an alarm calls a human if it backs up.",
  );

  // CDK's singleton that applies S3 event notifications (a CloudFormation custom resource).
  const notifications = stack.node.tryFindChild("BucketNotificationsHandler050a0587b7544547bf325f094a3db834");
  const notificationsRole = notifications?.node.tryFindChild("Role");
  if (notificationsRole) {
    ack(
      notificationsRole,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "CDK-managed handler that configures the input bucket's notifications at deploy time; the managed policy only lets it write its own logs.",
    );
  }
}
