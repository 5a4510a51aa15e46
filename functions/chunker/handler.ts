import type { S3Event } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { chunkerHandler } from "../../shared/pipeline/queue-handlers.js";

/** The factory the local runner uses too (local/handlers.ts): one code path for both. */
export const factory = chunkerHandler;

/** S3 ObjectCreated on the input bucket -> segments on the segments queue. */
export const handler = lambdaHandler<S3Event, void>("chunker", factory);
