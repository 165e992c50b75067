import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isStorageAddress, type OapClient, type StorageAddress } from "@omnigate/sdk";
import { Command } from "commander";
import { CommandRefused } from "../errors.js";
import { progressFor } from "../storage/progress.js";
import { withNodeClient } from "../target/connect-node.js";
import { type NodeOptions, withNodeOptions } from "../target/node-options.js";

export function storageCommand(): Command {
  return new Command("storage")
    .description("Content-addressed storage on a node: put, get, has (see docs/storage.md).")
    .addCommand(putCommand())
    .addCommand(getCommand())
    .addCommand(hasCommand());
}

interface PutOptions extends TransferOptions {
  public?: boolean;
  json?: boolean;
  progress: boolean;
}

function putCommand(): Command {
  return withStorageOptions(
    new Command("put")
      .description("Store a file (or stdin with -) and print its address, b3:<hex>.")
      .argument("<file>", "file to store, - for stdin")
      .option("--public", "publish to the shared namespace every tenant can read")
      .option("--json", "print {addr, size, created} as JSON")
      .option("--no-progress", "no progress bar"),
  ).action(async (file: string, opts: PutOptions) => {
    const size = file === "-" ? undefined : await fileSize(file);
    await withClient(opts, async (client, deadlineMs) => {
      const progress = progressFor(size, opts.progress);
      try {
        const result = await client.storage.put(file === "-" ? process.stdin : createReadStream(file), {
          deadlineMs,
          ...(size === undefined ? {} : { size }),
          ...(opts.public ? { public: true } : {}),
          onProgress: (sent) => progress.update(sent),
        });
        progress.stop();
        process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${result.addr}\n`);
        process.stderr.write(`stored ${result.size} bytes${result.created ? "" : " (already there)"}\n`);
      } finally {
        progress.stop();
      }
    });
  });
}

interface GetOptions extends TransferOptions {
  out?: string;
  range?: string;
  verifyChunks?: boolean;
  progress: boolean;
}

function getCommand(): Command {
  return withStorageOptions(
    new Command("get")
      .description(
        "Fetch an object to a file (or stdout). A whole object is verified against its address; " +
          "with --verify-chunks every 64 KiB is (ranges too) before it is written; " +
          "a file is only put in place once it verified.",
      )
      .argument("<addr>", "object address, b3:<64 hex digits>")
      .option("-o, --out <file>", "write to this file instead of stdout")
      .option("--range <range>", "one byte range: start-end (inclusive), start- or -suffix")
      .option("--verify-chunks", "prove each 64 KiB group against the address before writing it")
      .option("--no-progress", "no progress bar"),
  ).action(async (addr: string, opts: GetOptions) => {
    const address = mustBeAddress(addr);
    await withClient(opts, async (client, deadlineMs) => {
      const reader = client.storage.get(address, {
        deadlineMs,
        ...(opts.range ? { range: opts.range } : {}),
        ...(opts.verifyChunks ? { verify: "chunks" as const } : {}),
      });
      const head = await reader.head();
      const progress = progressFor(head.length, opts.progress && opts.out !== undefined);
      let received = 0;
      const counted = async function* () {
        for await (const chunk of reader) {
          received += chunk.byteLength;
          progress.update(received);
          yield chunk;
        }
      };
      try {
        if (opts.out === undefined) {
          await pipeline(counted(), stdoutKeptOpen());
        } else {
          const partial = `${opts.out}.partial`;
          try {
            await pipeline(counted(), createWriteStream(partial));
            await rename(partial, opts.out);
          } catch (error) {
            await rm(partial, { force: true });
            throw error;
          }
        }
      } finally {
        progress.stop();
      }
      if (opts.out !== undefined) process.stderr.write(`wrote ${received} bytes to ${opts.out}\n`);
    });
  });
}

function hasCommand(): Command {
  return withStorageOptions(
    new Command("has")
      .description("Print the object's size if this tenant can read it; exit 1 if it cannot.")
      .argument("<addr>", "object address, b3:<64 hex digits>")
      .option("--json", "print {addr, size, public} as JSON"),
  ).action(async (addr: string, opts: TransferOptions & { json?: boolean }) => {
    const address = mustBeAddress(addr);
    await withClient(opts, async (client, deadlineMs) => {
      const info = await client.storage.has(address, { deadlineMs });
      if (!info) throw new CommandRefused(`${address}: not found for this tenant`);
      process.stdout.write(opts.json ? `${JSON.stringify({ addr: address, ...info })}\n` : `${info.size}\n`);
    });
  });
}

interface TransferOptions extends NodeOptions {
  timeout: string;
}

/** The node options, and --timeout: the deadline of the whole transfer. */
function withStorageOptions(command: Command): Command {
  return withNodeOptions(command).option("--timeout <seconds>", "deadline of the whole transfer", "300");
}

async function withClient(
  opts: TransferOptions,
  work: (client: OapClient, deadlineMs: number) => Promise<void>,
): Promise<void> {
  const seconds = Number(opts.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CommandRefused("--timeout must be a positive number of seconds");
  // The node's refusals (404, 409, 413, 416, object_corrupt) reach the user as they are: code, reason, hint.
  await withNodeClient(opts, (client) => work(client, seconds * 1000));
}

function mustBeAddress(value: string): StorageAddress {
  if (!isStorageAddress(value))
    throw new CommandRefused(`not an object address (b3: and 64 lowercase hex digits): ${value}`);
  return value;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "not readable by you" : String(error);
    throw new CommandRefused(`cannot read ${file}: ${why}`, {
      hint: "give the path of a file to store, or - to store stdin",
    });
  }
}

/** stdout as a pipeline target that is not closed when the object ends. */
function stdoutKeptOpen(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (process.stdout.write(chunk)) callback();
      else process.stdout.once("drain", () => callback());
    },
  });
}
