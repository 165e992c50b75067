import { createRequire } from "node:module";
import { type GroupChildrenHasher, registerNativeGroupHasher } from "./verified/native-groups.js";

/**
 * Registers `@omnigate/blake3-native` (built by node-gyp when the SDK is installed) as the
 * hasher of full 64 KiB groups. Where it was not built, chunk-verified reads hash in
 * WebAssembly, as in a browser.
 */
function loadNativeGroupHasher(): GroupChildrenHasher | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require("@omnigate/blake3-native") as { groupChildren: GroupChildrenHasher }).groupChildren;
  } catch {
    return undefined;
  }
}

registerNativeGroupHasher(loadNativeGroupHasher());
