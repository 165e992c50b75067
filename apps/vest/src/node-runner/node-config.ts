import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { formatAppProtoId } from "@omnigate/oap";
import { MAILBOX_APP_ID, STORAGE_APP_ID, VEST_APP_ID } from "../shared/protocol.js";
import type { VestPorts } from "./vest-layout.js";

/** Per-tenant request quotas of the Vest node, per second; a storm is measured against these. */
export interface VestQuotas {
  storageRate: number;
  mailboxRate: number;
}

export const DEFAULT_VEST_QUOTAS: VestQuotas = { storageRate: 200, mailboxRate: 100 };

export interface NodeConfigInput {
  ports: VestPorts;
  dataDir: string;
  backendCaFile: string;
  quotas?: VestQuotas;
  /** Origins allowed to open the WebSocket (the page's). */
  origins: string[];
}

/** The node's TOML config: its listeners, the route of app 0x1001 to the backend, quotas. */
export function nodeConfigToml(input: NodeConfigInput): string {
  const { ports } = input;
  const quotas = input.quotas ?? DEFAULT_VEST_QUOTAS;
  return `# Written by \`npm run vest\` on each start: the Vest pilot's node.
listen = "${ports.host}:${ports.oap}"
admin = "${ports.host}:${ports.admin}"
data_dir = ${JSON.stringify(input.dataDir)}

[ws]
listen = "${ports.host}:${ports.ws}"
allowed_origins = ${JSON.stringify(input.origins.join(","))}

# The Vest backend: sign-in and the room directory (apps/vest/src/backend).
[[apps]]
id = "${formatAppProtoId(VEST_APP_ID)}"
name = "vest"
backend = "oap+tls://${ports.host}:${ports.backend}"
ca_file = ${JSON.stringify(input.backendCaFile)}
timeout_ms = 5000

# Per-tenant quotas: what a storm runs into (npm run vest:storm).
[quotas.apps."${formatAppProtoId(STORAGE_APP_ID)}"]
rate = ${quotas.storageRate}
burst = ${quotas.storageRate * 2}

[quotas.apps."${formatAppProtoId(MAILBOX_APP_ID)}"]
rate = ${quotas.mailboxRate}
burst = ${quotas.mailboxRate * 2}
`;
}

export async function writeNodeConfig(file: string, input: NodeConfigInput): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, nodeConfigToml(input), { mode: 0o600 });
}
