import type { SQSEvent, Context } from "aws-lambda";
import { lambdaContext } from "../../shared/lambda/cold-start.js";
import { stitcherHandler, type SqsHandler } from "../../shared/pipeline/queue-handlers.js";

let handle: SqsHandler | undefined;

/** A complete job -> transcript files, utterance items, COMPLETED record, notification. */
export const handler = (event: SQSEvent, context: Context) => (handle ??= stitcherHandler(lambdaContext("stitcher")))(event, context);
