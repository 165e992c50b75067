"use strict";
// node-gyp could not build the addon (no compiler, no Node headers): say so and let the
// install go on, since the SDK hashes chunk groups in WebAssembly without it.
console.warn(
  "@omnigate/blake3-native: the native addon was not built; chunk-verified reads will hash in WebAssembly (slower). " +
    "Install python3, make and a C compiler, then run `npm rebuild @omnigate/blake3-native`.",
);
