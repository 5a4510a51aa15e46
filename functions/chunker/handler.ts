import type { S3Event, Context } from "aws-lambda";
import { lambdaContext } from "../../shared/lambda/cold-start.js";
import { chunkerHandler, type S3Handler } from "../../shared/pipeline/queue-handlers.js";

let handle: S3Handler | undefined;

/** S3 ObjectCreated on the input bucket -> segments on the segments queue. */
export const handler = (event: S3Event, context: Context) => (handle ??= chunkerHandler(lambdaContext("chunker")))(event, context);
