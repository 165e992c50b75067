import { join, resolve } from "node:path";

/** Where a Vest deployment keeps its state, all under one directory (default `.vest`). */
export interface VestLayout {
  root: string;
  /** The node's data dir (root key, mailbox sqlite, storage). */
  nodeDataDir: string;
  /** The node's config, written by `npm run vest`. */
  nodeConfig: string;
  /** The backend's TLS material (its own dev CA) and room directory. */
  backendDir: string;
  roomsFile: string;
  /** The built map archive, reused while its build version matches. */
  archiveFile: string;
  logDir: string;
  nodeLog: string;
  backendLog: string;
}

export function vestLayout(root: string): VestLayout {
  const abs = resolve(root);
  const backendDir = join(abs, "backend");
  const logDir = join(abs, "logs");
  return {
    root: abs,
    nodeDataDir: join(abs, "node"),
    nodeConfig: join(abs, "node.toml"),
    backendDir,
    roomsFile: join(backendDir, "rooms.json"),
    archiveFile: join(abs, "world.pmtiles"),
    logDir,
    nodeLog: join(logDir, "node.log"),
    backendLog: join(logDir, "backend.log"),
  };
}

/** The addresses of one Vest deployment. */
export interface VestPorts {
  host: string;
  /** OAP/1 over TLS. */
  oap: number;
  /** OAP/1 over WSS: what the page dials. */
  ws: number;
  admin: number;
  backend: number;
  /** The page (plain HTTP on 127.0.0.1 is a secure context for WebCrypto). */
  web: number;
}

/** Apart from `npm start`'s 9443/9444/9600, so both can run at once. */
export const DEFAULT_VEST_PORTS: VestPorts = {
  host: "127.0.0.1",
  oap: 9543,
  ws: 9544,
  admin: 9640,
  backend: 9711,
  web: 8090,
};

/** The tenant every Vest user acts in. */
export const VEST_TENANT = 0x7e57n;

/** A neighbouring tenant on the same node: the storm's noisy neighbour. */
export const NEIGHBOUR_TENANT = 0x5702n;
