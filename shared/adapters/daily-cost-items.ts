import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DailyCost, DailyReservation } from "./job-store.js";
import { conditionalUpdate } from "./conditional-writes.js";

/**
 * The daily cost counters of the job table (`pk = COST#<yyyy-mm-dd>`, `sk = COST`): the day's total and each
 * job's share (`job_<id>`), for the deployment's daily limit (pipeline/cost-cap.ts). JobStore's part for them.
 */
export class DailyCostItems {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays?: number,
  ) {}

  /**
   * Reserves `usd` for the job on the day's counter unless that would take the day's total past `limitUsd`,
   * in one conditional update (no transactions): the job's share is set and the total added together, only
   * while the job has no share yet and the total leaves room. A repeat finds the job's share and is told it
   * is reserved already; a refusal reads the day's total to say how much is spent.
   */
  async reserveDailyCost(day: string, jobId: string, usd: number, limitUsd: number): Promise<DailyReservation> {
    // The counter expires with the jobs of its day (the table's TTL), retentionDays after the day ends.
    const expires = this.retentionDays ? Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + (this.retentionDays + 1) * 86400 : undefined;
    const applied = await conditionalUpdate(this.db, {
      TableName: this.table,
      Key: dailyCostKey(day),
      UpdateExpression: `SET #job = :usd, #day = :day${expires ? ", expiresAt = :exp" : ""} ADD #total :usd`,
      ConditionExpression: "attribute_not_exists(#job) AND (attribute_not_exists(#total) OR #total <= :room)",
      ExpressionAttributeNames: { "#job": dailyCostJobAttribute(jobId), "#total": "total", "#day": "day" },
      ExpressionAttributeValues: { ":usd": usd, ":room": limitUsd - usd, ":day": day, ...(expires ? { ":exp": expires } : {}) },
    });
    if (applied) return { reserved: true, already: false };
    const counter = await this.dailyCost(day);
    if (counter && counter.jobs[jobId] !== undefined) return { reserved: true, already: true };
    return { reserved: false, spentUsd: counter?.totalUsd ?? 0 };
  }

  /**
   * Corrects the job's share from what was reserved to what it cost, and the total by the difference, in one
   * conditional update: only while the share is still the reservation, so a repeat changes nothing.
   */
  async settleDailyCost(day: string, jobId: string, reservedUsd: number, actualUsd: number): Promise<boolean> {
    return conditionalUpdate(this.db, {
      TableName: this.table,
      Key: dailyCostKey(day),
      UpdateExpression: "SET #job = :actual ADD #total :delta",
      ConditionExpression: "#job = :reserved",
      ExpressionAttributeNames: { "#job": dailyCostJobAttribute(jobId), "#total": "total" },
      ExpressionAttributeValues: { ":actual": actualUsd, ":reserved": reservedUsd, ":delta": actualUsd - reservedUsd },
    });
  }

  /** The day's counter: its total and each job's share; undefined when nothing was reserved that day. */
  async dailyCost(day: string): Promise<DailyCost | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: dailyCostKey(day), ConsistentRead: true }));
    return out.Item ? dailyCostOf(day, out.Item) : undefined;
  }
}

/** The daily cost counter's key. */
export const dailyCostKey = (day: string) => ({ pk: `COST#${day}`, sk: "COST" });
/** A job's attribute on the daily counter. */
export const dailyCostJobAttribute = (jobId: string) => `job_${jobId}`;

/** The counter item as figures. */
export function dailyCostOf(day: string, item: Record<string, unknown>): DailyCost {
  const jobs: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith("job_") && typeof value === "number") jobs[name.slice(4)] = value;
  }
  return { day, totalUsd: typeof item.total === "number" ? Math.round(item.total * 1e6) / 1e6 : 0, jobs };
}
