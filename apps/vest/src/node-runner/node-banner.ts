import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";

export interface NodeUrls {
  oapUrl: string;
  wsUrl: string;
  adminUrl: string;
}

const BANNER_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

/**
 * Waits for the node's banner in its log file, read from byte `from` on (where this start's
 * output begins), and returns the addresses it names. Fails when the node exits first or
 * prints no banner within 60 s.
 */
export async function readBanner(logFile: string, from: number, exited: Promise<string>): Promise<NodeUrls> {
  let exitedHow: string | undefined;
  void exited.then((how) => {
    exitedHow = how;
  });
  const file = await open(logFile, "r");
  try {
    const decoder = new StringDecoder("utf8");
    const chunk = Buffer.alloc(64 * 1024);
    const deadline = Date.now() + BANNER_TIMEOUT_MS;
    let position = from;
    let text = "";
    for (;;) {
      // Noted before reading, so the lines a node printed on its way out are read too.
      const gone = exitedHow;
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, chunk.byteLength, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        text += decoder.write(chunk.subarray(0, bytesRead));
      }
      const urls = bannerUrls(text);
      if (urls) return urls;
      if (gone !== undefined) {
        throw new Error(`the node exited before it was ready (${gone}); see ${logFile}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the node did not print its banner within ${BANNER_TIMEOUT_MS / 1000} s; see ${logFile}`,
        );
      }
      await sleep(POLL_MS);
    }
  } finally {
    await file.close();
  }
}

function bannerUrls(text: string): NodeUrls | undefined {
  const oapUrl = /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(text)?.[1];
  const wsUrl = /OAP\/1 over WSS\s+(wss:\/\/\S+)/.exec(text)?.[1];
  const adminUrl = /admin HTTP\s+(http:\/\/[^/\s]+)/.exec(text)?.[1];
  return oapUrl && wsUrl && adminUrl ? { oapUrl, wsUrl, adminUrl } : undefined;
}
