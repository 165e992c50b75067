import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** The subject's last message, if any. */
export function lastOnSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<StoredMsg | null> {
  return jsm.streams.getMessage(stream, { last_by_subj: subject });
}

/**
 * Up to `count` messages on `subject` after stream sequence `after`, in stream order.
 *
 * nats-server 2.9 has no batched get, so this asks for "the first message on the subject at
 * or after s" for `count` consecutive starts at once. Every message of the subject in the
 * range answers its own start, and a later answer means nothing of the subject lies before
 * it, so the distinct answers are a gap-free run: one round trip when the topic's messages
 * are dense in the stream, more rounds (from the last found) when other topics interleave.
 */
export async function readAfter(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  after: number,
  count: number,
  last: StoredMsg | null,
): Promise<StoredMsg[]> {
  // `last` (the subject's last message) bounds the starts worth asking about: asking past it
  // would cost a refused request each.
  if (!last || last.seq <= after) return [];
  if (last.seq === after + 1) return [last];
  const found = new Map<number, StoredMsg>();
  let from = after;
  while (found.size < count && from < last.seq) {
    const wanted = Math.min(count - found.size, last.seq - from);
    const answers = await Promise.all(
      Array.from({ length: wanted }, (_, i) => nextOnSubject(jsm, stream, subject, from + 1 + i)),
    );
    let reached = from;
    let exhausted = false;
    for (const stored of answers) {
      if (!stored) {
        exhausted = true;
        continue;
      }
      found.set(stored.seq, stored);
      reached = Math.max(reached, stored.seq);
    }
    if (exhausted || reached === from) break;
    from = reached;
  }
  return [...found.values()].sort((a, b) => a.seq - b.seq).slice(0, count);
}

/** The first message on `subject` at or after `seq` (the stream API's next_by_subj, nats-server ≥ 2.9). */
function nextOnSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
): Promise<StoredMsg | null> {
  // The client's types name only seq or last_by_subj; the server takes next_by_subj with seq.
  const query = { seq, next_by_subj: subject } as unknown as { seq: number };
  return jsm.streams.getMessage(stream, query);
}

/** Messages stored per subject matching `filter`. */
export async function subjectCounts(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
): Promise<Record<string, number>> {
  const info = await jsm.streams.info(stream, { subjects_filter: filter });
  return info.state.subjects ?? {};
}
