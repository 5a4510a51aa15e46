/** Which transient failure (if any) a request suffers. Keyed on the audio and the attempt, so a
 * retried chunk gets a fresh draw and a whole run repeats exactly whatever the request order. */
import type { SeededRandom } from "../audio/seeded-random.js";
import type { FailureKind, ProviderOptions } from "./options.js";

export function drawFailure(options: ProviderOptions, random: SeededRandom): FailureKind | undefined {
  if (options.failureKinds.length === 0 || !random.chance(options.failureRate)) return undefined;
  return random.pick(options.failureKinds);
}
