/**
 * The words the synthetic speakers know. Meeting talk, 1-3 syllables, varied lengths.
 * Some have homophones (right/write, week/weak...) so the provider can mishear them plausibly.
 * Changing this list means re-running make-clips.ts.
 */
export const VOCABULARY: readonly string[] = [
  "hello", "thanks", "yes", "okay", "right", "agree", "meeting", "budget", "project", "team",
  "plan", "today", "tomorrow", "monday", "friday", "week", "report", "question", "answer", "idea",
  "problem", "number", "data", "market", "customer", "product", "design", "review", "update", "deadline",
  "schedule", "office", "email", "call", "share", "screen", "slide", "point", "issue", "risk",
  "cost", "price", "sales", "growth", "quarter", "target", "launch", "feature", "release", "version",
  "test", "server", "contract", "partner", "manager", "two", "four", "know", "here", "there",
  "meet", "later", "maybe", "really", "good", "great", "simple", "quickly", "table", "morning",
  "afternoon", "coffee", "travel", "weekend", "water", "paper", "open", "closed", "london", "berlin",
];
