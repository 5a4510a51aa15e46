import { GetCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { wiring } from "../wiring.js";
import { voiceRecordSchema, voiceSourceTag, type VoiceRecord } from "../domain/speakers/enrolled-voices.js";
import { listRecordSchema, listSourceTag, type ListKind, type ListRecord } from "../domain/vocabulary/term-list.js";
import { conditionalDelete, isConditionFailure } from "./conditional-writes.js";

/**
 * What users register once and jobs name: enrolled voices (`VOICE#<name>`) and word lists
 * (`LIST#<kind>#<name>`), items of the job table listed through its source index. JobStore's part for them.
 */
export class RegistryItems {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  // Enrolled voices: pk = VOICE#<name>, sk = VOICE. They are listed through the source index (gsi1pk = VOICES,
  // gsi1sk = name), so no scan and no new index; their source key never starts with SOURCE#.
  async putVoice(voice: VoiceRecord): Promise<VoiceRecord> {
    const tag = voiceSourceTag(voice.source);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...voiceKey(voice.name), ...voice, sourceTag: tag, gsi1pk: VOICES_INDEX_KEY, gsi1sk: voice.name },
          ConditionExpression: "attribute_not_exists(pk) OR sourceTag <> :tag",
          ExpressionAttributeValues: { ":tag": tag },
        }),
      );
      return voice;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getVoice(voice.name)) ?? voice;
    }
  }

  // Registered word lists (vocabularies, filters): pk = LIST#<kind>#<name>, sk = LIST, listed like voices
  // through the source index (gsi1pk = LISTS#<kind>, gsi1sk = name).
  async putList(list: ListRecord): Promise<ListRecord> {
    const tag = listSourceTag(list.source);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...listItemKey(list.kind, list.name), ...list, sourceTag: tag, gsi1pk: `LISTS#${list.kind}`, gsi1sk: list.name },
          ConditionExpression: "attribute_not_exists(pk) OR sourceTag <> :tag",
          ExpressionAttributeValues: { ":tag": tag },
        }),
      );
      return list;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getList(list.kind, list.name)) ?? list;
    }
  }

  async getList(kind: ListKind, name: string): Promise<ListRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: listItemKey(kind, name), ConsistentRead: true }));
    return out.Item ? listRecordSchema.parse(out.Item) : undefined;
  }

  async listLists(kind: ListKind): Promise<ListRecord[]> {
    return this.listed(`LISTS#${kind}`, (item) => listRecordSchema.parse(item));
  }

  async deleteList(kind: ListKind, name: string): Promise<boolean> {
    return conditionalDelete(this.db, { TableName: this.table, Key: listItemKey(kind, name), ConditionExpression: "attribute_exists(pk)" });
  }

  async getVoice(name: string): Promise<VoiceRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: voiceKey(name), ConsistentRead: true }));
    return out.Item ? voiceRecordSchema.parse(out.Item) : undefined;
  }

  async listVoices(): Promise<VoiceRecord[]> {
    return this.listed(VOICES_INDEX_KEY, (item) => voiceRecordSchema.parse(item));
  }

  /** Every item the source index lists under `pk` (voices, or one kind of list), page by page. */
  private async listed<T>(pk: string, parse: (item: Record<string, unknown>) => T): Promise<T[]> {
    const found: T[] = [];
    const pages = paginateQuery(
      { client: this.db },
      { TableName: this.table, IndexName: VOICES_INDEX_NAME, KeyConditionExpression: "gsi1pk = :pk", ExpressionAttributeValues: { ":pk": pk } },
    );
    for await (const page of pages) for (const item of page.Items ?? []) found.push(parse(item));
    return found;
  }

  async deleteVoice(name: string, source?: VoiceRecord["source"]): Promise<boolean> {
    return conditionalDelete(this.db, {
      TableName: this.table,
      Key: voiceKey(name),
      ConditionExpression: source ? "sourceTag = :tag" : "attribute_exists(pk)",
      ...(source ? { ExpressionAttributeValues: { ":tag": voiceSourceTag(source) } } : {}),
    });
  }
}

const voiceKey = (name: string) => ({ pk: `VOICE#${name}`, sk: "VOICE" });
const listItemKey = (kind: ListKind, name: string) => ({ pk: `LIST#${kind}#${name}`, sk: "LIST" });
const VOICES_INDEX_KEY = "VOICES";
const VOICES_INDEX_NAME = wiring.table.sourceIndex.name;
