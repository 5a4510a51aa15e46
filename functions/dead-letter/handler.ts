import type { SQSEvent, Context } from "aws-lambda";
import { lambdaContext } from "../../shared/lambda/cold-start.js";
import { deadLetterHandler, type SqsHandler } from "../../shared/pipeline/queue-handlers.js";

let handle: SqsHandler | undefined;

/** A message that exhausted its receives -> its job FAILED with the last error, and a notification. */
export const handler = (event: SQSEvent, context: Context) => (handle ??= deadLetterHandler(lambdaContext("dead-letter")))(event, context);
