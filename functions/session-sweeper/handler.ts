import type { Context, ScheduledEvent } from "aws-lambda";
import { lambdaContext } from "../../shared/lambda/cold-start.js";
import { orphanSweeper, type SweepReport } from "../../realtime/session-orphans.js";

let sweep: ((run: { remainingMs: number }) => Promise<SweepReport>) | undefined;

/** Every few minutes (EventBridge schedule): realtime sessions whose gateway died are ended and submitted. */
export const handler = (_event: ScheduledEvent, context: Context) =>
  (sweep ??= orphanSweeper(lambdaContext("session-sweeper")))({ remainingMs: context.getRemainingTimeInMillis() });
