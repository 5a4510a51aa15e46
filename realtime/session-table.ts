/**
 * The session item in the jobs table (pk = SESSION#<id>, sk = SESSION), beside the job items.
 *
 * Who drives a session is written on it: `holder` is the gateway recording that started it, or the sweep
 * that found it orphaned and claimed it. The holder refreshes `heartbeatAt`; a session still STREAMING
 * whose heartbeat is a minute old is orphaned, and a sweep takes it over with a conditional update. Every
 * later write (heartbeat, progress, the end) is conditional on holding it, so two writers never both end,
 * and submit, one session. Conditional updates only: dynalite has no transactions.
 */
import { GetCommand, PutCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conditionalUpdate, isConditionFailure } from "../shared/adapters/conditional-writes.js";
import { wiring } from "../shared/wiring.js";

export type CloseReason =
  | "client_closed"
  | "disconnected"
  | "idle_timeout"
  | "session_limit"
  | "server_shutdown"
  | "upstream_failed"
  /** Its gateway stopped heartbeating mid-session; a sweep submitted what was stored. */
  | "orphaned";

/** CLOSED: ended with audio but no batch job asked for (STT_REALTIME_BATCH_JOB=off); the parts stay in the work bucket. */
export type SessionStatus = "STREAMING" | "SUBMITTED" | "CLOSED" | "EMPTY" | "FAILED";

export interface SessionOutcome {
  status: SessionStatus;
  audioSeconds: number;
  source?: { bucket: string; key: string };
  jobId?: string;
  error?: string;
}

/** The session item, as stored (keys and index attributes left out). */
export interface SessionItem {
  sessionId: string;
  status: SessionStatus;
  model: string;
  language?: string;
  upstream: "realtime" | "http";
  keyId: string;
  startedAt: string;
  endedAt?: string;
  closeReason?: CloseReason;
  /** While streaming: audio stored in parts so far; at the end: the session's audio. */
  audioSeconds: number;
  partCount: number;
  utteranceCount?: number;
  source?: { bucket: string; key: string };
  jobId?: string;
  error?: string;
  expiresAt?: number;
  /** Epoch milliseconds of the holder's last heartbeat (every part write, and at least every ~20 s). */
  heartbeatAt?: number;
  /** Who drives the session now: `gateway:<random>` or `sweep:<random>`. */
  holder?: string;
  /** Whether the session ends in a batch job (STT_REALTIME_BATCH_JOB at its start); absent counts as true. */
  batchJob?: boolean;
  /** Live side's provider cost (LiveUsage), written at the end by the gateway that ran it. */
  liveAudioSecondsBilled?: number;
  liveRequests?: number;
  livePartialRequests?: number;
  /** The batch job's own provider figure: written from the batch side, never by the gateway. */
  batchAudioSecondsBilled?: number;
}

/** A session with no heartbeat for this long is orphaned. */
export const ORPHAN_AFTER_MS = 60_000;
/** The holder refreshes the heartbeat at least this often (three chances before a session looks orphaned). */
export const HEARTBEAT_MS = 20_000;

export const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });

const LIVE = wiring.table.liveSessionIndex;
/** gsi2pk of every live session: one partition, read by the sweep only. */
export const LIVE_SESSION = "LIVE_SESSION";
const liveSortKey = (heartbeatAt: number) => new Date(heartbeatAt).toISOString();

/** Fields an update may set (undefined ones are left out). */
export type SessionFields = Partial<Omit<SessionItem, "sessionId" | "holder" | "heartbeatAt">>;

export class SessionTable {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The new session, STREAMING, held by `holder`, in the live index. */
  async create(item: SessionItem & { holder: string; heartbeatAt: number }): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...sessionKey(item.sessionId), ...item, [LIVE.partitionKey]: LIVE_SESSION, [LIVE.sortKey]: liveSortKey(item.heartbeatAt) },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async get(sessionId: string): Promise<SessionItem | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: sessionKey(sessionId), ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * The heartbeat, with progress fields if given, while `holder` holds the live session. False when it
   * does not any more (a sweep took it over, or it has ended).
   */
  async beat(sessionId: string, holder: string, now: number, fields: SessionFields = {}): Promise<boolean> {
    const set = assignments({ ...fields, heartbeatAt: now, [LIVE.sortKey]: liveSortKey(now) });
    return this.conditional({
      Key: sessionKey(sessionId),
      UpdateExpression: `SET ${set.expression}`,
      ConditionExpression: "#holder = :holder AND #status = :streaming",
      ExpressionAttributeNames: { ...set.names, "#holder": "holder", "#status": "status" },
      ExpressionAttributeValues: { ...set.values, ":holder": holder, ":streaming": "STREAMING" },
    });
  }

  /**
   * Takes over a live session whose last heartbeat is before `staleBefore`: the sweep becomes its holder
   * (and heartbeats from now on). Undefined when it is not orphaned (any more): another sweep or its own
   * gateway got there first.
   */
  async claimOrphan(sessionId: string, holder: string, now: number, staleBefore: number): Promise<SessionItem | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: sessionKey(sessionId),
          UpdateExpression: "SET #holder = :holder, heartbeatAt = :now, #sk = :sk",
          ConditionExpression: "#status = :streaming AND heartbeatAt < :stale",
          ExpressionAttributeNames: { "#holder": "holder", "#status": "status", "#sk": LIVE.sortKey },
          ExpressionAttributeValues: { ":holder": holder, ":now": now, ":sk": liveSortKey(now), ":streaming": "STREAMING", ":stale": staleBefore },
          ReturnValues: "ALL_OLD",
        }),
      );
      return out.Attributes ? fromItem(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** The end: final fields and status, out of the live index. False when `holder` no longer holds it. */
  async close(sessionId: string, holder: string, fields: SessionFields & { status: Exclude<SessionStatus, "STREAMING"> }): Promise<boolean> {
    const set = assignments(fields);
    return this.conditional({
      Key: sessionKey(sessionId),
      UpdateExpression: `SET ${set.expression} REMOVE #lpk, #lsk`,
      ConditionExpression: "#holder = :holder AND #status = :streaming",
      ExpressionAttributeNames: { ...set.names, "#holder": "holder", "#status": "status", "#lpk": LIVE.partitionKey, "#lsk": LIVE.sortKey },
      ExpressionAttributeValues: { ...set.values, ":holder": holder, ":streaming": "STREAMING" },
    });
  }

  /** Fields written after the end (the job link): whoever ended the session writes them. */
  async update(sessionId: string, fields: SessionFields): Promise<void> {
    const set = assignments(fields);
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: sessionKey(sessionId),
        UpdateExpression: `SET ${set.expression}`,
        ExpressionAttributeNames: set.names,
        ExpressionAttributeValues: set.values,
      }),
    );
  }

  /** Ids of live sessions whose last heartbeat is before `staleBefore`, oldest first (the sparse live index). */
  async staleSessions(indexName: string, staleBefore: number): Promise<string[]> {
    const ids: string[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        IndexName: indexName,
        KeyConditionExpression: "#pk = :live AND #sk < :stale",
        ExpressionAttributeNames: { "#pk": LIVE.partitionKey, "#sk": LIVE.sortKey },
        ExpressionAttributeValues: { ":live": LIVE_SESSION, ":stale": liveSortKey(staleBefore) },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) if (typeof item.sessionId === "string") ids.push(item.sessionId);
    return ids;
  }

  private conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    return conditionalUpdate(this.db, { TableName: this.table, ...input });
  }
}

function assignments(fields: Record<string, unknown>): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
  return { expression: sets.join(", "), names, values };
}

function fromItem(item: Record<string, unknown>): SessionItem {
  const { pk: _pk, sk: _sk, [LIVE.partitionKey]: _lpk, [LIVE.sortKey]: _lsk, ...rest } = item;
  return rest as unknown as SessionItem;
}
