import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { deadLetterHandler } from "../../shared/pipeline/queue-handlers.js";

/** The factory the local runner uses too (local/handlers.ts): one code path for both. */
export const factory = deadLetterHandler;

/** A message that exhausted its receives -> its job FAILED with the last error, and a notification. */
export const handler = lambdaHandler<SQSEvent, SQSBatchResponse>("deadLetter", factory);
