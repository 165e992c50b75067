import { createRequire } from "node:module";
import { type GroupChildrenHasher, registerNativeGroupHasher } from "./verified/native-groups.js";

/**
 * Registers `@omnigate/blake3-native` (built by node-gyp when the SDK is installed) as the
 * hasher of full 64 KiB groups. Where it was not built, or was built without SIMD kernels,
 * chunk-verified reads hash in WebAssembly, as in a browser.
 */
function loadNativeGroupHasher(): GroupChildrenHasher | undefined {
  try {
    const require = createRequire(import.meta.url);
    const addon = require("@omnigate/blake3-native") as { groupChildren: GroupChildrenHasher; simd: boolean };
    // A build without SIMD kernels (portable C only) is slower than WebAssembly SIMD.
    return addon.simd ? addon.groupChildren : undefined;
  } catch {
    return undefined;
  }
}

registerNativeGroupHasher(loadNativeGroupHasher());
