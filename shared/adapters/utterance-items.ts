import { setTimeout as sleep } from "node:timers/promises";
import { BatchWriteCommand, paginateQuery, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { NamedSegment } from "../domain/types.js";
import type { UtteranceItem } from "./job-store.js";

/** Zero-padded milliseconds so a sort-key range query selects utterances by time. */
export const utteranceSortKey = (start: number, id: number) =>
  `UTT#${String(Math.round(start * 1000)).padStart(10, "0")}#${String(id).padStart(6, "0")}`;

/**
 * A job's utterance items (`pk = JOB#<jobId>`, `sk = UTT#<start ms>#<id>`), beside its job item: written in
 * batches, read in time order, deleted with the job. JobStore's part for them.
 */
export class UtteranceItems {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Puts are idempotent: the same utterance always lands on the same key. */
  /** `expiresAt` is the job's, so utterances expire with their job (same TTL attribute). */
  async putUtterances(jobId: string, utterances: NamedSegment[], expiresAt?: number): Promise<void> {
    // The utterance's language is stored as `language_code`, Amazon Transcribe's name for an item's language.
    const items = utterances.map(({ language, ...u }) => ({
      pk: `JOB#${jobId}`,
      sk: utteranceSortKey(u.start, u.id),
      jobId,
      ...u,
      ...(language !== undefined ? { language_code: language } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    }));
    for (let i = 0; i < items.length; i += 25) {
      let pending: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error("DynamoDB kept returning unprocessed utterance writes");
        const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
        if (pending.length) await sleep(50 * 2 ** attempt);
      }
    }
  }

  async utterances(jobId: string, range?: { from: number; to: number }): Promise<UtteranceItem[]> {
    const items: UtteranceItem[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: range ? "pk = :pk AND sk BETWEEN :a AND :b" : "pk = :pk AND begins_with(sk, :utt)",
        ExpressionAttributeValues: range
          ? { ":pk": `JOB#${jobId}`, ":a": utteranceSortKey(range.from, 0), ":b": utteranceSortKey(range.to, 999999) }
          : { ":pk": `JOB#${jobId}`, ":utt": "UTT#" },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        items.push({
          jobId,
          id: item.id,
          start: item.start,
          end: item.end,
          text: item.text,
          speaker_id: item.speaker_id ?? null,
          ...(typeof item.speaker_name === "string" ? { speaker_name: item.speaker_name } : {}),
          ...(typeof item.language_code === "string" ? { language: item.language_code } : {}),
        });
      }
    }
    return items;
  }

  /** Removes every utterance item of the job (a query, then batched deletes); how many there were. */
  async deleteUtterances(jobId: string): Promise<number> {
    const sks: string[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :utt)",
        ExpressionAttributeValues: { ":pk": `JOB#${jobId}`, ":utt": "UTT#" },
        ProjectionExpression: "sk",
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) sks.push(String(item.sk));
    for (let i = 0; i < sks.length; i += 25) {
      let pending: Record<string, unknown>[] = sks.slice(i, i + 25).map((sk) => ({ DeleteRequest: { Key: { pk: `JOB#${jobId}`, sk } } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error("DynamoDB kept returning unprocessed utterance deletes");
        const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
        if (pending.length) await sleep(50 * 2 ** attempt);
      }
    }
    return sks.length;
  }
}
