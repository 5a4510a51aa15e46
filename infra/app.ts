/**
 * CDK app entry (`npx cdk synth`, `npx cdk deploy`; cdk.json runs it with tsx).
 * Settings come from context: cdk.json's "stt:*" defaults, overridden with
 * `-c stt:<name>=<value>`. The AwsSolutions checks run on every synth: an
 * unacknowledged finding fails it.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { settingsFromContext } from "./settings.js";
import { SpeechToTextStack } from "./stack.js";

const app = new App();
const stackName = (app.node.tryGetContext("stt:stackName") as string | undefined) ?? "SpeechToText";

new SpeechToTextStack(app, stackName, {
  description: "Serverless speech-to-text pipeline: S3 drop zone -> chunk -> transcribe -> stitch -> notify",
  settings: settingsFromContext((key) => app.node.tryGetContext(key)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
