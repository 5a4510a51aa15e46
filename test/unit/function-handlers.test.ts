/**
 * Each Lambda in functions/ runs the factory the local runner runs for the same function id (local/handlers.ts),
 * so the local stack exercises the code AWS runs, function by function, as the wiring lists them.
 */
import { describe, expect, it } from "vitest";
import { HANDLER_FACTORIES } from "../../local/handlers.js";
import { wiring, type FunctionId } from "../../shared/wiring.js";

describe("function handlers", () => {
  it("use the local runner's factory for every function of the wiring", async () => {
    const ids = Object.keys(wiring.functions) as FunctionId[];
    expect(ids.length).toBeGreaterThanOrEqual(5);
    for (const id of ids) {
      const module = (await import(`../../functions/${wiring.functions[id].entry}/handler.ts`)) as { factory: unknown; handler: unknown };
      expect(module.factory, id).toBe(HANDLER_FACTORIES[id]);
      expect(typeof module.handler, id).toBe("function");
    }
  });
});
