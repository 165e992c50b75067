import { Agent, request } from "node:https";
import type { OapClient } from "@omnigate/sdk";
import type { RangeResponse, Source } from "pmtiles";
import { OapRangeSource, type StorageAddress } from "../../apps/vest/src/web/oap-pmtiles-source.js";

/** A pmtiles Source over HTTPS range requests, on one kept-alive connection. */
export class HttpsRangeSource implements Source {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    ca: string,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  }

  getKey(): string {
    return this.url;
  }

  getBytes(offset: number, length: number): Promise<RangeResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        { agent: this.agent, headers: { range: `bytes=${offset}-${offset + length - 1}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            if (res.statusCode !== 206 && res.statusCode !== 200) {
              reject(new Error(`GET ${this.url}: ${res.statusCode}`));
              return;
            }
            const all = Buffer.concat(chunks);
            resolve({
              data: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
            });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The page's source (OapRangeSource) on a Node SDK client over TLS or WSS. */
export function oapSource(client: OapClient, addr: string): Source {
  return new OapRangeSource(
    { getBytes: (a, options) => client.storage.getBytes(a, options) },
    addr as StorageAddress,
  );
}
