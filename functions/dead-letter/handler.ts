import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { deadLetterHandler } from "../../shared/pipeline/queue-handlers.js";

/** A message that exhausted its receives -> its job FAILED with the last error, and a notification. */
export const handler = lambdaHandler<SQSEvent, SQSBatchResponse>("deadLetter", deadLetterHandler);
