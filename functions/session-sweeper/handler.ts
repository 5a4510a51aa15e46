import type { ScheduledEvent } from "aws-lambda";
import { lambdaHandler } from "../../shared/lambda/composition-root.js";
import { orphanSweeper, type SweepReport } from "../../realtime/session-orphans.js";

/** The factory the local runner uses too (local/handlers.ts): one code path for both. */
export const factory = orphanSweeper;

/** Every few minutes (EventBridge schedule): realtime sessions whose gateway died are ended and submitted. */
export const handler = lambdaHandler<ScheduledEvent, SweepReport>("sessionSweeper", (ctx) => {
  const sweep = factory(ctx);
  return (_event, context) => sweep({ remainingMs: context.getRemainingTimeInMillis() });
});
