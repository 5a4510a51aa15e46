import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { transcriberHandler } from "../../shared/pipeline/queue-handlers.js";

/** The factory the local runner uses too (local/handlers.ts): one code path for both. */
export const factory = transcriberHandler;

/** One segment message -> the provider -> a stored result, counted toward the job's fan-in. */
export const handler = lambdaHandler<SQSEvent, SQSBatchResponse>("transcriber", factory);
