import { setMaxListeners } from "node:events";
import { compressBody } from "@omnigate/oap";
import { createBlake3 } from "../blake3.js";
import type { ClientPlatform } from "./platform.js";

/** Node: zstd-napi for COMP, the native BLAKE3 (hash-wasm where it has no binary). */
export const NODE_PLATFORM: ClientPlatform = {
  compress: compressBody,
  createBlake3,
  allowManyListeners: (signal) => setMaxListeners(0, signal),
};
