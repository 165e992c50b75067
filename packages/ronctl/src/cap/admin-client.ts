import { request } from "node:http";
import { CommandRefused } from "../errors.js";
import type { AdminTarget } from "./admin-options.js";
import type { Shape } from "./wire.js";

/** How long one admin call may take before ronctl gives up on the node. */
export const ADMIN_TIMEOUT_MS = 10_000;
/** Largest admin response ronctl reads; the API's answers are a few KiB at most. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

interface RawResponse {
  status: number;
  body: string;
}

/**
 * One call to the node's capability admin API. Every failure becomes a CommandRefused that
 * says what to do: start a node, fix the token, or what the node said was wrong.
 */
export async function callAdmin<T>(
  target: AdminTarget,
  method: "GET" | "POST",
  path: string,
  shape: Shape<T>,
  body?: object,
): Promise<T> {
  const url = new URL(path, target.url);
  const raw = await send(url, method, target.token, body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.body);
  } catch {
    throw new CommandRefused(
      `${url.origin} answered ${method} ${url.pathname} with ${raw.status} and no JSON: is --admin the node's admin port?`,
    );
  }
  const message =
    typeof parsed === "object" && parsed !== null && "error" in parsed && typeof parsed.error === "string"
      ? parsed.error
      : undefined;
  if (raw.status === 401) {
    throw new CommandRefused(
      `the node at ${url.origin} refused the admin token from ${target.tokenFrom} (401${message ? `: ${message}` : ""}). ` +
        `The node keeps its token in <data dir>/auth/admin.token (here: ${target.tokenFile}); ` +
        "pass the node's data directory with --data-dir, or the token with --admin-token / RON_ADMIN_TOKEN",
    );
  }
  if (raw.status === 404) {
    throw new CommandRefused(
      `the node at ${url.origin} has no ${method} ${url.pathname} (404${message ? `: ${message}` : ""}): ` +
        "is --admin the admin port of an Omnigate node that serves the capability admin API?",
    );
  }
  if (raw.status < 200 || raw.status >= 300) {
    throw new CommandRefused(
      `the node at ${url.origin} refused ${method} ${url.pathname}: ${raw.status} ${message ?? raw.body.trim()}`,
    );
  }
  if (!shape(parsed)) {
    throw new CommandRefused(
      `${url.origin} answered ${method} ${url.pathname} with JSON ronctl does not understand; is ronctl older or newer than the node?`,
    );
  }
  return parsed;
}

function send(url: URL, method: string, token: string, body: object | undefined): Promise<RawResponse> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(payload ? { "content-type": "application/json", "content-length": payload.byteLength } : {}),
        },
        timeout: ADMIN_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(
              new CommandRefused(
                `${url.origin} sent more than ${MAX_RESPONSE_BYTES} bytes; not the admin API?`,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(
        new CommandRefused(`the node at ${url.origin} did not answer within ${ADMIN_TIMEOUT_MS / 1000} s`),
      ),
    );
    req.on("error", (err) => reject(err instanceof CommandRefused ? err : unreachable(url, err)));
    req.end(payload);
  });
}

function unreachable(url: URL, err: Error): CommandRefused {
  const code = (err as NodeJS.ErrnoException).code;
  return new CommandRefused(
    `cannot reach a node's admin API at ${url.origin} (${code ?? err.message}). ` +
      "Start a node with `npm start` (its admin address is the `admin` config key, default 127.0.0.1:9600), " +
      "or point --admin / RON_ADMIN_URL at a running node",
  );
}
