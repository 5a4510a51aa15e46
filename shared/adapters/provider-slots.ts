import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { RetryableError } from "../errors.js";
import { isConditionFailure } from "./job-store.js";

export interface ProviderSlotsOptions {
  /** The most provider requests the whole deployment may have in flight. */
  slots: number;
  /** A holder that dies loses its slot after this long: more than one request's timeout. */
  leaseSeconds: number;
  /** Give up (a retryable error, so the message comes back later) after waiting this long for a slot. */
  maxWaitMs?: number;
}

/** Runs one provider request within a concurrency limit. */
export interface RequestLimiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** The table item holding the slots: the only item that is not a job's. */
export const PROVIDER_SLOTS_KEY = { pk: "PROVIDER#slots", sk: "SLOTS" } as const;

/**
 * The provider cap as a property of the deployed system, not of one process:
 * every provider request (a segment's, or a speaker probe's) holds a slot,
 * an entry in one item's `holders` map, added only while the map has fewer
 * than `slots` entries (a conditional update, so two Lambdas can never both
 * take the last one). Entries are leases: one whose holder died is cleared by
 * the next request that finds the map full. Probes and segments share the
 * cap, so probes use the whole of it once the last segments are in.
 */
export class ProviderSlots implements RequestLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: ProviderSlotsOptions,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const token = await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release(token).catch(() => undefined);
    }
  }

  private async acquire(): Promise<string> {
    const token = randomUUID();
    const started = Date.now();
    const maxWait = this.options.maxWaitMs ?? 120_000;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: PROVIDER_SLOTS_KEY,
            UpdateExpression: "SET holders.#t = :until",
            ConditionExpression: "attribute_exists(holders) AND size(holders) < :slots",
            ExpressionAttributeNames: { "#t": token },
            ExpressionAttributeValues: { ":until": now + this.options.leaseSeconds * 1000, ":slots": this.options.slots },
          }),
        );
        return token;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // Full, or not there yet: create it, or clear leases whose holders died, then try again.
      if (await this.repair(now)) continue;
      if (Date.now() - started > maxWait) {
        throw new RetryableError("provider_slots_busy", `no provider request slot was free for ${Math.round(maxWait / 1000)} s`);
      }
      await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }

  /** True when something changed that may free a slot. */
  private async repair(now: number): Promise<boolean> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: PROVIDER_SLOTS_KEY, ConsistentRead: true }));
    if (!out.Item?.holders) {
      try {
        await this.db.send(
          new PutCommand({ TableName: this.table, Item: { ...PROVIDER_SLOTS_KEY, holders: {} }, ConditionExpression: "attribute_not_exists(pk)" }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      return true;
    }
    let freed = false;
    for (const [token, until] of Object.entries(out.Item.holders as Record<string, number>)) {
      if (until >= now) continue;
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: PROVIDER_SLOTS_KEY,
            UpdateExpression: "REMOVE holders.#t",
            ConditionExpression: "holders.#t = :until",
            ExpressionAttributeNames: { "#t": token },
            ExpressionAttributeValues: { ":until": until },
          }),
        );
        freed = true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return freed;
  }

  private async release(token: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: PROVIDER_SLOTS_KEY,
        UpdateExpression: "REMOVE holders.#t",
        ExpressionAttributeNames: { "#t": token },
      }),
    );
  }
}
