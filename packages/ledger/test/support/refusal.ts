import { LedgerProofError } from "../../src/errors.js";

/** The LedgerProofError `run` throws; fails the test when it accepts (or throws anything else). */
export function refusal(run: () => unknown): LedgerProofError {
  try {
    run();
  } catch (error) {
    if (error instanceof LedgerProofError) return error;
    throw error;
  }
  throw new Error("the proof was accepted");
}
