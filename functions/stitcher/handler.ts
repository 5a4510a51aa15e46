import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { stitcherHandler } from "../../shared/pipeline/queue-handlers.js";

/** The factory the local runner uses too (local/handlers.ts): one code path for both. */
export const factory = stitcherHandler;

/** A complete job -> transcript files, utterance items, COMPLETED record, notification. */
export const handler = lambdaHandler<SQSEvent, SQSBatchResponse>("stitcher", factory);
