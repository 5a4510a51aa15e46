import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/** Whether `error` is DynamoDB's answer to a write whose condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === "ConditionalCheckFailedException")
  );
}

/** An update that applies only if its condition holds: false, not an error, when it does not. */
export async function conditionalUpdate(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
  try {
    await db.send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A delete that applies only if its condition holds: false, not an error, when it does not. */
export async function conditionalDelete(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof DeleteCommand>[0]): Promise<boolean> {
  try {
    await db.send(new DeleteCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
