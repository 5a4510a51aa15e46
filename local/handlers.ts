/**
 * Which code each function of the wiring runs: the same factories functions/<name>/handler.ts hand their
 * Lambda context to, keyed by the wiring's function ids. The local runner builds its handlers here; the
 * types hold each factory to its function's trigger (an S3 handler for an S3 trigger, and so on), so a
 * function added to the wiring without its handler, or with the wrong kind, does not compile.
 */
import { orphanSweeper, type SweepReport } from "../realtime/session-orphans.js";
import type { PipelineContext } from "../shared/pipeline/context.js";
import {
  chunkerHandler,
  deadLetterHandler,
  stitcherHandler,
  transcriberHandler,
  type S3Handler,
  type SqsHandler,
} from "../shared/pipeline/queue-handlers.js";
import type { FunctionId, wiring } from "../shared/wiring.js";

/** A scheduled run: how long it may take, as Lambda's context tells it. */
export type ScheduledHandler = (run: { remainingMs: number }) => Promise<SweepReport>;

type TriggerKind<F extends FunctionId> = (typeof wiring.functions)[F]["trigger"]["kind"];

/** The handler a trigger of each kind invokes. */
export type HandlerFor<K> = K extends "s3" ? S3Handler : K extends "schedule" ? ScheduledHandler : SqsHandler;

export type HandlerFactories = { readonly [F in FunctionId]: (ctx: PipelineContext) => HandlerFor<TriggerKind<F>> };

export const HANDLER_FACTORIES: HandlerFactories = {
  chunker: chunkerHandler,
  transcriber: transcriberHandler,
  stitcher: stitcherHandler,
  deadLetter: deadLetterHandler,
  sessionSweeper: orphanSweeper,
};

/** The handler of a function with an SQS or SQS dead-letter trigger. */
export function sqsHandlerOf(fn: FunctionId, ctx: PipelineContext): SqsHandler {
  return (HANDLER_FACTORIES[fn] as (ctx: PipelineContext) => SqsHandler)(ctx);
}

/** The handler of a function with an S3 trigger. */
export function s3HandlerOf(fn: FunctionId, ctx: PipelineContext): S3Handler {
  return (HANDLER_FACTORIES[fn] as (ctx: PipelineContext) => S3Handler)(ctx);
}
