import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { RetryableError } from "../errors.js";
import { isConditionFailure } from "./job-store.js";

export interface ProbeSlotsOptions {
  /** How many speaker probes may be at the provider at once, across every function instance. */
  slots: number;
  /** A holder that dies loses its slot after this long: more than one probe's whole retry budget. */
  leaseSeconds: number;
  /** Give up (a retryable error) after waiting this long for a free slot. */
  maxWaitMs?: number;
}

/**
 * The provider cap as a property of the deployed system, not of one process:
 * segment requests are bounded by the transcriber's SQS maximum concurrency
 * (one request per invocation), and speaker probes by these slots, items in
 * the jobs table taken with a conditional write. So the provider never sees
 * more than `maxConcurrency + slots` requests from the pipeline, in Lambda as
 * on the local stack. A slot is a lease: one whose holder crashed frees itself.
 */
export class ProbeSlots {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: ProbeSlotsOptions,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.options.slots <= 0) return fn();
    const held = await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release(held).catch(() => undefined);
    }
  }

  private async acquire(): Promise<{ slot: number; token: string }> {
    const started = Date.now();
    const maxWait = this.options.maxWaitMs ?? 120_000;
    for (let attempt = 0; ; attempt++) {
      const first = Math.floor(Math.random() * this.options.slots);
      for (let i = 0; i < this.options.slots; i++) {
        const slot = (first + i) % this.options.slots;
        const token = randomUUID();
        const now = Date.now();
        try {
          await this.db.send(
            new PutCommand({
              TableName: this.table,
              Item: {
                ...slotKey(slot),
                token,
                leaseUntil: now + this.options.leaseSeconds * 1000,
                expiresAt: Math.floor(now / 1000) + this.options.leaseSeconds + 3600,
              },
              ConditionExpression: "attribute_not_exists(pk) OR leaseUntil < :now",
              ExpressionAttributeValues: { ":now": now },
            }),
          );
          return { slot, token };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      if (Date.now() - started > maxWait) {
        throw new RetryableError("probe_slots_busy", `no speaker-probe slot was free for ${Math.round(maxWait / 1000)} s`);
      }
      await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }

  private async release({ slot, token }: { slot: number; token: string }): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: slotKey(slot),
          ConditionExpression: "#t = :token",
          ExpressionAttributeNames: { "#t": "token" },
          ExpressionAttributeValues: { ":token": token },
        }),
      );
    } catch (error) {
      // Our lease ran out and someone else holds the slot now: theirs to release.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** The table partition holding the slots: the only items a transcriber may delete (infra grants exactly this). */
export const PROBE_SLOTS_PARTITION = "PROVIDER#probe-slots";

const slotKey = (slot: number) => ({ pk: PROBE_SLOTS_PARTITION, sk: `SLOT#${String(slot).padStart(3, "0")}` });
