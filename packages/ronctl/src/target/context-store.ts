import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CommandRefused } from "../errors.js";

/** A named node, as `ronctl context add` saved it. File paths are absolute. */
export interface NodeContext {
  node: string;
  caFile?: string;
  capFile?: string;
}

/** What contexts.json holds: the contexts by name and the one `ronctl context use` selected. */
export interface ContextStore {
  selected?: string;
  contexts: Record<string, NodeContext>;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** `$XDG_CONFIG_HOME/omnigate/contexts.json`, else `~/.config/omnigate/contexts.json`. */
export function contextsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "omnigate", "contexts.json");
}

export function checkContextName(name: string): string {
  if (!NAME.test(name))
    throw new CommandRefused(`context name "${name}" must be 1–64 letters, digits, ".", "_" or "-"`);
  return name;
}

/** The store in `file`; none yet is an empty store. */
export function readContexts(file: string): ContextStore {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { contexts: {} };
    throw new CommandRefused(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const store = fromJson(text);
  if (store === undefined) {
    throw new CommandRefused(`${file} is not a ronctl context file`, {
      hint: "fix it by hand, or remove it and add the contexts again with ronctl context add",
    });
  }
  return store;
}

/** Written whole to a temporary file, then renamed over: a reader never sees half a file. Mode 0600. */
export function writeContexts(file: string, store: ContextStore): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(toJson(store), null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The selected context, if there is one and it still exists. */
export function selectedContext(store: ContextStore): { name: string; context: NodeContext } | undefined {
  const name = store.selected;
  const context = name === undefined ? undefined : store.contexts[name];
  return name === undefined || context === undefined ? undefined : { name, context };
}

interface ContextJson {
  node: string;
  ca_file?: string;
  cap_file?: string;
}

function toJson(store: ContextStore): { selected?: string; contexts: Record<string, ContextJson> } {
  const contexts: Record<string, ContextJson> = {};
  for (const [name, c] of Object.entries(store.contexts)) {
    contexts[name] = {
      node: c.node,
      ...(c.caFile ? { ca_file: c.caFile } : {}),
      ...(c.capFile ? { cap_file: c.capFile } : {}),
    };
  }
  return { ...(store.selected ? { selected: store.selected } : {}), contexts };
}

function fromJson(text: string): ContextStore | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { selected, contexts } = parsed as { selected?: unknown; contexts?: unknown };
  if (selected !== undefined && typeof selected !== "string") return undefined;
  if (typeof contexts !== "object" || contexts === null) return undefined;
  const store: ContextStore = { ...(selected ? { selected } : {}), contexts: {} };
  for (const [name, value] of Object.entries(contexts)) {
    const c = value as Partial<Record<keyof ContextJson, unknown>>;
    if (typeof c?.node !== "string") return undefined;
    if (![c.ca_file, c.cap_file].every((f) => f === undefined || typeof f === "string")) return undefined;
    store.contexts[name] = {
      node: c.node,
      ...(typeof c.ca_file === "string" ? { caFile: c.ca_file } : {}),
      ...(typeof c.cap_file === "string" ? { capFile: c.cap_file } : {}),
    };
  }
  return store;
}
