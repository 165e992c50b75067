import { JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";

/** JetStream's code for "the subject's last sequence is not the one expected". */
const WRONG_LAST_SEQUENCE = 10071;

/**
 * Publishes `data` on `subject` only if the subject's last message is still `expectedSeq`
 * (0: none yet). Answers the new message's sequence, or undefined when another writer got
 * there first.
 *
 * `Nats-Expected-Last-Subject-Sequence` alone is not enough on nats-server 2.9 in a cluster:
 * the leader checks it against what is stored, not against writes still being replicated,
 * so several concurrent writers expecting the same sequence can all win (seen with 6
 * writers on 2.9.10). The leader does record a `Nats-Msg-Id` the moment a write arrives, so
 * naming the write after the version it replaces (`<subject>@<expectedSeq>`) lets exactly
 * one of them through while the stream's duplicate window lasts; the expected sequence still
 * refuses a writer that comes back later than that.
 */
export async function casPublish(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array | string,
  expectedSeq: number,
): Promise<number | undefined> {
  try {
    const ack = await js.publish(subject, data, {
      msgID: `${subject}@${expectedSeq}`,
      expect: { lastSubjectSequence: expectedSeq },
    });
    return ack.duplicate ? undefined : ack.seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) return undefined;
    throw err;
  }
}
