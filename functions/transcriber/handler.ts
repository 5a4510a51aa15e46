import type { SQSEvent, Context } from "aws-lambda";
import { lambdaContext } from "../../shared/lambda/cold-start.js";
import { transcriberHandler, type SqsHandler } from "../../shared/pipeline/queue-handlers.js";

let handle: SqsHandler | undefined;

/** One segment message -> the provider -> a stored result, counted toward the job's fan-in. */
export const handler = (event: SQSEvent, context: Context) => (handle ??= transcriberHandler(lambdaContext("transcriber")))(event, context);
