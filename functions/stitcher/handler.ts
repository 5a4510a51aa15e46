import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { stitcherHandler } from "../../shared/pipeline/queue-handlers.js";

/** A complete job -> transcript files, utterance items, COMPLETED record, notification. */
export const handler = lambdaHandler<SQSEvent, SQSBatchResponse>("stitcher", stitcherHandler);
