import type { MailboxMessage } from "@omnigate/sdk";
import { Command, Option } from "commander";
import { CommandRefused } from "../errors.js";
import { withNodeClient } from "../target/connect-node.js";
import { type NodeOptions, withNodeOptions } from "../target/node-options.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** `ronctl mailbox`: send, recv, tail and the dead-letter queue, through the SDK. */
export function mailboxCommand(): Command {
  const mailbox = new Command("mailbox").description(
    "The mailbox (app 0x0201): send, recv, tail a topic, and its dead-letter queue (see docs/mailbox.md).",
  );
  mailbox.addCommand(
    withNodeOptions(new Command("send"))
      .description(
        "Send one message; prints {msg_id, duplicate}. The body is the argument, or stdin without one.",
      )
      .argument("<topic>")
      .argument("[body]")
      .option(
        "--idem-key <key>",
        "idempotency key: the same key and body within the dedupe window is a duplicate",
      )
      .option("--attr <k=v...>", "attribute (repeatable)")
      .action(
        (
          topic: string,
          body: string | undefined,
          opts: NodeOptions & { idemKey?: string; attr?: string[] },
        ) =>
          withNodeClient(opts, async (client) => {
            const bytes = body !== undefined ? Buffer.from(body) : await readStdin();
            const sent = await client.mailbox.send(topic, bytes, {
              idemKey: opts.idemKey,
              attrs: parseAttrs(opts.attr),
            });
            printLine({ msg_id: sent.msgId, duplicate: sent.duplicate });
          }),
      ),
  );
  mailbox.addCommand(
    withNodeOptions(new Command("recv"))
      .description("Receive up to --max messages, one JSON line each; --ack acks them after printing.")
      .argument("<topic>")
      .option("--max <n>", "most messages", "1")
      .option("--wait-ms <ms>", "long poll", "0")
      .option("--visibility-ms <ms>", "lease length (default: the node's)")
      .option("--ack", "ack each message once printed")
      .action(
        (
          topic: string,
          opts: NodeOptions & { max: string; waitMs: string; visibilityMs?: string; ack?: boolean },
        ) =>
          withNodeClient(opts, async (client) => {
            const got = await client.mailbox.recv(topic, {
              max: int("--max", opts.max),
              waitMs: int("--wait-ms", opts.waitMs),
              visibilityMs:
                opts.visibilityMs === undefined ? undefined : int("--visibility-ms", opts.visibilityMs),
            });
            for (const msg of got) {
              printLine(messageLine(msg));
              if (opts.ack) await msg.ack();
            }
          }),
      ),
  );
  mailbox.addCommand(
    withNodeOptions(new Command("tail"))
      .description(
        "Subscribe and print messages as they arrive, until interrupted (explicit mode acks each once printed).",
      )
      .argument("<topic>")
      .addOption(
        new Option("--ack <mode>", "auto (at-most-once) or explicit")
          .choices(["auto", "explicit"])
          .default("explicit"),
      )
      .option("--credit <n>", "messages pushed ahead", "16")
      .option("--count <n>", "stop after this many messages")
      .action(
        (topic: string, opts: NodeOptions & { ack: "auto" | "explicit"; credit: string; count?: string }) =>
          withNodeClient(opts, async (client) => {
            const stop = new AbortController();
            process.once("SIGINT", () => stop.abort());
            const limit = opts.count === undefined ? Number.POSITIVE_INFINITY : int("--count", opts.count);
            let seen = 0;
            if (limit === 0) return;
            for await (const msg of client.mailbox.subscribe(topic, {
              ack: opts.ack,
              credit: int("--credit", opts.credit),
              signal: stop.signal,
            })) {
              printLine(messageLine(msg));
              if (opts.ack === "explicit") await msg.ack();
              if (++seen >= limit) break;
            }
          }),
      ),
  );
  const dlq = new Command("dlq").description("A topic's dead-letter queue.");
  dlq.addCommand(
    withNodeOptions(new Command("list"))
      .argument("<topic>")
      .option("--max <n>", "most dead letters", "10")
      .action((topic: string, opts: NodeOptions & { max: string }) =>
        withNodeClient(opts, async (client) => {
          for (const d of await client.mailbox.dlqList(topic, { max: int("--max", opts.max) })) {
            printLine({
              msg_id: d.msgId,
              attempts: d.attempts,
              sent_at: new Date(d.sentAt).toISOString(),
              last_error: d.lastError,
              attrs: d.attrs,
              ...bodyField(d.body),
            });
          }
        }),
      ),
  );
  dlq.addCommand(
    withNodeOptions(new Command("redrive"))
      .argument("<topic>")
      .option("--max <n>", "most dead letters to move back")
      .action((topic: string, opts: NodeOptions & { max?: string }) =>
        withNodeClient(opts, async (client) => {
          const max = opts.max === undefined ? undefined : int("--max", opts.max);
          printLine({ redriven: await client.mailbox.dlqRedrive(topic, { max }) });
        }),
      ),
  );
  dlq.addCommand(
    withNodeOptions(new Command("purge"))
      .argument("<topic>")
      .action((topic: string, opts: NodeOptions) =>
        withNodeClient(opts, async (client) => {
          printLine({ purged: await client.mailbox.dlqPurge(topic) });
        }),
      ),
  );
  mailbox.addCommand(dlq);
  return mailbox;
}

function messageLine(msg: MailboxMessage): Record<string, unknown> {
  return {
    msg_id: msg.msgId,
    receipt: msg.receipt,
    attempt: msg.attempt,
    sent_at: new Date(msg.sentAt).toISOString(),
    attrs: msg.attrs,
    ...bodyField(msg.body),
  };
}

/** UTF-8 bodies as text, anything else as base64. */
function bodyField(body: Uint8Array): { body: string } | { body_base64: string } {
  try {
    return { body: decoder.decode(body) };
  } catch {
    return { body_base64: Buffer.from(body).toString("base64") };
  }
}

function parseAttrs(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const attrs: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CommandRefused(`--attr ${pair}: expected key=value`);
    attrs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return attrs;
}

function int(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new CommandRefused(`${flag} must be a whole number ≥ 0`);
  return n;
}

function printLine(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
