/**
 * A trace as an on-path observer sees one connection: the TLS records, in capture order, with
 * their direction, size and time. The label is the secret the attacker tries to infer; the
 * session groups traces that must stay on one side of a train/test split.
 */
export interface TracePacket {
  /** Milliseconds since the trace's first packet. */
  t: number;
  /** 1 = client→node, -1 = node→client. */
  dir: 1 | -1;
  /** TLS record length including its 5-byte header. */
  bytes: number;
}

export interface Trace {
  label: string;
  session: string;
  packets: TracePacket[];
}
