/**
 * Follows the WebSocket frames (RFC 6455 §5.2) of the bytes a peer sends, without keeping or
 * unmasking any of them, to tell how much of a data message has arrived but not completed.
 * `ws` parses and buffers the same bytes; this only counts them, so the session can apply its
 * slow-frame limit and buffered-bytes bounds to a message still arriving, as it does to a
 * partial frame over TLS. Control frames (ping, pong, close), which may come between the
 * fragments of a message, neither end nor extend it.
 *
 * It never throws: bytes that break the framing are `ws`'s to refuse (it closes the connection).
 */
export class WebSocketMessageTracker {
  /** Header bytes of the frame being read (at most 14). */
  private readonly header = new Uint8Array(14);
  private headerHave = 0;
  /** Payload bytes of the current frame still to come; -1 while its header is incomplete. */
  private payloadLeft = -1;
  private frameIsControl = false;
  private frameIsFinal = false;
  /** Payload bytes of the data message being received, across its fragments so far. */
  private messageBytes = 0;
  /** A data frame without FIN has arrived: the message continues in later frames. */
  private inMessage = false;

  /**
   * Bytes of a data message that has started and not completed: its fragments so far, the
   * part of its current frame received, and a partial frame header. 0 between messages.
   */
  get pendingBytes(): number {
    const partialHeader = this.payloadLeft < 0 ? this.headerHave : 0;
    if (this.inMessage || (!this.frameIsControl && this.payloadLeft >= 0) || partialHeader > 0) {
      return this.messageBytes + partialHeader;
    }
    return 0;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.payloadLeft < 0) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const take = Math.min(this.payloadLeft, end - at);
      at += take;
      this.payloadLeft -= take;
      if (!this.frameIsControl) this.messageBytes += take;
      if (this.payloadLeft === 0) this.frameDone();
    }
  }

  private readHeader(chunk: Uint8Array, at: number): number {
    while (at < chunk.length && this.headerHave < this.headerLength()) {
      this.header[this.headerHave++] = chunk[at++] as number;
    }
    const length = this.headerLength();
    if (this.headerHave < length) return at;
    const first = this.header[0] as number;
    const second = this.header[1] as number;
    this.frameIsFinal = (first & 0x80) !== 0;
    this.frameIsControl = (first & 0x08) !== 0;
    let payload = second & 0x7f;
    if (payload === 126) payload = ((this.header[2] as number) << 8) | (this.header[3] as number);
    else if (payload === 127) {
      // Past 2^53 the count is off, but ws refuses anything over max_frame long before.
      payload = 0;
      for (let i = 2; i < 10; i++) payload = payload * 256 + (this.header[i] as number);
    }
    this.headerHave = 0;
    this.payloadLeft = payload;
    if (!this.frameIsControl) this.messageBytes += length;
    if (payload === 0) this.frameDone();
    return at;
  }

  /** The length of the header being read, as far as its first two bytes tell. */
  private headerLength(): number {
    if (this.headerHave < 2) return 2;
    const second = this.header[1] as number;
    const lengthBytes = (second & 0x7f) === 126 ? 2 : (second & 0x7f) === 127 ? 8 : 0;
    return 2 + lengthBytes + ((second & 0x80) !== 0 ? 4 : 0);
  }

  private frameDone(): void {
    this.payloadLeft = -1;
    if (this.frameIsControl) return;
    if (this.frameIsFinal) {
      this.inMessage = false;
      this.messageBytes = 0;
    } else {
      this.inMessage = true;
    }
  }
}
