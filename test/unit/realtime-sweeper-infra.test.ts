/**
 * The orphan sweep in AWS, on the synthesized stack: the scheduled sweeper function, what it may touch,
 * the sparse live-session index, and the gateway's share (its start sweep, the batch switch).
 * Per-function rules that hold for every function (IAM derived from the wiring, cdk-nag) are in
 * test/infra/stack.test.ts.
 */
import { describe, expect, it } from "vitest";
import { App, Stack, type CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { IConstruct } from "constructs";
import { SpeechToTextStack } from "../../infra/stack.js";
import { RealtimeGateway } from "../../infra/realtime/realtime-gateway.js";
import { wiring } from "../../shared/wiring.js";

const NO_BUNDLING = { "aws:cdk:bundling-stacks": [], "aws:cdk:disable-asset-staging": true };

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

describe("the session sweeper", () => {
  const stack = new SpeechToTextStack(new App({ context: NO_BUNDLING }), "Sweep");
  const template = Template.fromStack(stack);
  const sweeper = stack.functions.sessionSweeper;
  const statements = () =>
    (Object.values(template.findResources("AWS::IAM::Policy")) as any[])
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === logicalId(sweeper.role)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }>);

  it("runs every 5 minutes on an EventBridge schedule, without retries (the next run is the retry)", () => {
    // Assess
    expect(wiring.functions.sessionSweeper.trigger).toEqual({ kind: "schedule", everyMinutes: 5 });
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId(sweeper.fn), "Arn"] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) })],
    });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      FunctionName: { "Fn::GetAtt": [logicalId(sweeper.fn), "Arn"] },
      Principal: "events.amazonaws.com",
    });
  });

  it("joins parts with the chunker's ffmpeg layer and has the time a long session needs", () => {
    const props = template.toJSON().Resources[logicalId(sweeper.fn)].Properties;
    expect(props.Layers).toEqual([{ Ref: logicalId(stack.ffmpeg!.layer) }]);
    expect(props.Environment.Variables.STT_FFMPEG_PATH).toBe("/opt/bin/ffmpeg");
    expect(props.Timeout).toBe(900);
  });

  it("lists only session parts, and queries the live-session and source indexes", () => {
    const list = statements().filter((s) => [s.Action].flat().includes("s3:ListBucket"));
    expect(list).toEqual([
      { Effect: "Allow", Action: "s3:ListBucket", Resource: { "Fn::GetAtt": [logicalId(stack.buckets.work), "Arn"] }, Condition: { StringLike: { "s3:prefix": ["sessions/*"] } } },
    ]);
    const query = statements()
      .filter((s) => [s.Action].flat().includes("dynamodb:Query"))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r));
    expect(query).toEqual(
      expect.arrayContaining([`/index/${wiring.table.liveSessionIndex.name}`, `/index/${wiring.table.sourceIndex.name}`].map((suffix) => expect.stringContaining(suffix))),
    );
  });

  it("never reads the provider key: it calls no provider", () => {
    const env = template.toJSON().Resources[logicalId(sweeper.fn)].Properties.Environment.Variables;
    expect(env.STT_API_KEY_SECRET_ARN).toBeUndefined();
    expect(statements().some((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue"))).toBe(false);
  });
});

describe("the gateway's share", () => {
  function synth(props: { batchJob?: boolean }): Template {
    const stack = new Stack(new App({ context: NO_BUNDLING }), "Rt", { env: { account: "111111111111", region: "us-east-1" } });
    new RealtimeGateway(stack, "Realtime", {
      inputBucket: new s3.Bucket(stack, "Input"),
      workBucket: new s3.Bucket(stack, "Work"),
      table: new dynamodb.Table(stack, "Jobs", { partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING } }),
      key: new kms.Key(stack, "Key"),
      providerSecret: new secretsmanager.Secret(stack, "Provider"),
      providerBaseUrl: "https://api.together.xyz/v1",
      model: "openai/whisper-large-v3",
      certificate: acm.Certificate.fromCertificateArn(stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/abc"),
      ...props,
    });
    return Template.fromStack(stack);
  }
  const envOf = (template: Template) =>
    Object.fromEntries(
      (Object.values(template.findResources("AWS::ECS::TaskDefinition"))[0] as any).Properties.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );

  it("passes the batch switch (on unless the construct is told otherwise)", () => {
    expect(envOf(synth({})).STT_REALTIME_BATCH_JOB).toBe("on");
    expect(envOf(synth({ batchJob: false })).STT_REALTIME_BATCH_JOB).toBe("off");
  });

  it("may query the live-session index, for the sweep it runs as it starts", () => {
    synth({}).hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"],
            Resource: Match.arrayWith([{ "Fn::Join": ["", [{ "Fn::GetAtt": [Match.anyValue(), "Arn"] }, `/index/${wiring.table.liveSessionIndex.name}`]] }]),
          }),
        ]),
      },
    });
  });
});
