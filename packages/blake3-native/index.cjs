"use strict";
// The addon node-gyp built at install (throws when it was not built: the SDK then uses WebAssembly).
module.exports = require("./build/Release/blake3_native.node");
