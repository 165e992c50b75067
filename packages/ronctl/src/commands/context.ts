import { resolve } from "node:path";
import { DEFAULT_NODE_URL, NODE_URL_ENV, parseNodeUrl } from "@omnigate/sdk";
import { Command } from "commander";
import { CommandRefused } from "../errors.js";
import {
  type ContextStore,
  checkContextName,
  contextsFile,
  type NodeContext,
  readContexts,
  selectedContext,
  writeContexts,
} from "../target/context-store.js";

/**
 * `ronctl context`: named nodes, like `nats context`. The selected one is used when neither
 * --node nor $RON_NODE_URL names a node, before the local default.
 */
export function contextCommand(): Command {
  const file = () => contextsFile();
  return new Command("context")
    .description(
      `Named nodes (saved in ${contextsFile()}, mode 0600). The selected one is used when neither --node nor $${NODE_URL_ENV} names a node; without one, ${DEFAULT_NODE_URL}.`,
    )
    .addCommand(
      new Command("add")
        .description(
          "Save a node under a name (replacing one of that name); the first one added is selected.",
        )
        .argument("<name>")
        .requiredOption("--node <url>", "the node, oap+tls://host:port or wss://host:port/oap")
        .option("--ca-file <path>", "PEM CA to trust for it")
        .option("--cap-file <path>", "file holding the capability to use with it")
        .option("--select", "select it too")
        .action(
          (name: string, opts: { node: string; caFile?: string; capFile?: string; select?: boolean }) => {
            checkUrl(opts.node);
            const store = readContexts(file());
            store.contexts[checkContextName(name)] = {
              node: opts.node,
              ...(opts.caFile ? { caFile: resolve(opts.caFile) } : {}),
              ...(opts.capFile ? { capFile: resolve(opts.capFile) } : {}),
            };
            if (opts.select || selectedContext(store) === undefined) store.selected = name;
            writeContexts(file(), store);
            process.stderr.write(`saved context ${name}${store.selected === name ? " (selected)" : ""}\n`);
          },
        ),
    )
    .addCommand(
      new Command("ls")
        .alias("list")
        .description("List the contexts; * marks the selected one.")
        .option("--json", "print the store as JSON")
        .action((opts: { json?: boolean }) => {
          const store = readContexts(file());
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(store)}\n`);
            return;
          }
          if (Object.keys(store.contexts).length === 0) {
            process.stderr.write(
              `no contexts yet (add one with ronctl context add <name> --node <url>); ronctl uses ${DEFAULT_NODE_URL}\n`,
            );
          }
          for (const [name, context] of Object.entries(store.contexts)) {
            process.stdout.write(`${store.selected === name ? "*" : " "} ${name}\t${context.node}\n`);
          }
        }),
    )
    .addCommand(
      changeCommand("use", "select", "Select a context.", "selected", (store, name) => {
        store.selected = name;
      }),
    )
    .addCommand(
      changeCommand(
        "rm",
        "remove",
        "Remove a context (and the selection, if it was selected).",
        "removed",
        (store, name) => {
          delete store.contexts[name];
          if (store.selected === name) delete store.selected;
        },
      ),
    )
    .addCommand(
      new Command("show")
        .description("Print a context (default: the selected one) as JSON.")
        .argument("[name]")
        .action((name: string | undefined) => {
          const store = readContexts(file());
          const shown = name ?? store.selected;
          if (shown === undefined) {
            throw new CommandRefused("no context is selected", {
              hint: `select one with ronctl context use <name>; without one, ronctl uses ${DEFAULT_NODE_URL}`,
            });
          }
          const context = mustExist(store, shown);
          process.stdout.write(
            `${JSON.stringify({ name: shown, selected: store.selected === shown, ...context })}\n`,
          );
        }),
    );
}

/** A subcommand that changes the store around an existing context, saves it and says so. */
function changeCommand(
  verb: string,
  alias: string,
  description: string,
  done: string,
  change: (store: ContextStore, name: string) => void,
): Command {
  return new Command(verb)
    .alias(alias)
    .description(description)
    .argument("<name>")
    .action((name: string) => {
      const file = contextsFile();
      const store = readContexts(file);
      mustExist(store, name);
      change(store, name);
      writeContexts(file, store);
      process.stderr.write(`${done} context ${name}\n`);
    });
}

function mustExist(store: ContextStore, name: string): NodeContext {
  const context = store.contexts[name];
  if (context === undefined) {
    const known = Object.keys(store.contexts);
    throw new CommandRefused(`no context named ${name}`, {
      hint: known.length
        ? `known: ${known.join(", ")}`
        : "add one with ronctl context add <name> --node <url>",
    });
  }
  return context;
}

function checkUrl(url: string): void {
  try {
    parseNodeUrl(url);
  } catch (error) {
    throw new CommandRefused(`--node: ${(error as Error).message}`);
  }
}
