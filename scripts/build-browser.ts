// `npm run build:browser`: packages/sdk/dist-browser/omnigate-sdk.js, the SDK for a page
// (ESM, minified, no Node modules), and its size.
import { buildBrowserBundle } from "./browser-bundle.js";

const bundle = await buildBrowserBundle();
console.log(JSON.stringify({ bundle: bundle.outfile, bytes: bundle.bytes, gzip_bytes: bundle.gzipBytes }));
