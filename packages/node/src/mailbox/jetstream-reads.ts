import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { MessageCopy } from "./jetstream-sent-cache.js";

/** Known sequences one read walks at most (each is a Map lookup). */
const MAX_KNOWN_WALK = 4096;

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
 * First from `known` (the messages this node stored, jetstream-sent-cache.ts): while every
 * sequence after `after` is known, the subject's messages among them are exactly the known
 * ones of that subject, so a RECV on the node that took the SENDs costs no read at all.
 *
 * Past the first unknown sequence it asks the stream. nats-server 2.9 has no batched get, so
 * this asks for "the first message on the subject at or after s" for `count` consecutive
 * starts at once. Every message of the subject in the range answers its own start, and a
 * later answer means nothing of the subject lies before it, so the distinct answers are a
 * gap-free run: one round trip when the topic's messages are dense in the stream, more rounds
 * (from the last found) when other topics interleave. `lastOf` (the subject's last message,
 * read only when needed) bounds the starts worth asking about: asking past it would cost a
 * refused request each.
 */
export async function readAfter(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  after: number,
  count: number,
  lastOf: () => Promise<StoredMsg | null>,
  known: (seq: number) => MessageCopy | undefined = () => undefined,
): Promise<MessageCopy[]> {
  const read: MessageCopy[] = [];
  let from = after;
  for (let walked = 0, copy = known(from + 1); copy && read.length < count; copy = known(from + 1)) {
    from = copy.seq;
    if (copy.subject === subject) read.push(copy);
    if (++walked >= MAX_KNOWN_WALK) break; // other topics' messages: let the stream find ours
  }
  if (read.length >= count) return read;
  const last = await lastOf();
  if (!last || last.seq <= from) return read;
  if (last.seq === from + 1) return [...read, last];
  const found = new Map<number, StoredMsg>();
  const wantedTotal = count - read.length;
  while (found.size < wantedTotal && from < last.seq) {
    const wanted = Math.min(wantedTotal - found.size, last.seq - from);
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
  return [...read, ...[...found.values()].sort((a, b) => a.seq - b.seq).slice(0, wantedTotal)];
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
