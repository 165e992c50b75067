// The test page's own code, loaded as a module next to the SDK bundle: what a browser app does
// with the SDK, one function per scenario of sdk-in-browser.test.ts.
import { connect } from "/omnigate-sdk.js";

const text = (bytes) => new TextDecoder().decode(bytes);
const utf8 = (string) => new TextEncoder().encode(string);

async function echoOnce(url, cap) {
  const client = await connect(url, { cap });
  try {
    const reply = await client.request(0x0101, { body: utf8("hello from a page") });
    return {
      transports: client.hello.transports,
      auth: client.hello.auth,
      code: reply.code,
      body: text(reply.body),
      nodeGlobals: typeof globalThis.process + typeof globalThis.Buffer,
    };
  } finally {
    await client.close();
  }
}

async function requestWithoutCap(url) {
  const client = await connect(url);
  try {
    await client.request(0x0101, { body: utf8("no capability") });
    return "answered";
  } catch (err) {
    return `${err.code} ${err.reason}`;
  } finally {
    await client.close();
  }
}

/** Subscribes, sets `subscribed` once the node took the subscription, returns the first message. */
async function receiveOne(url, cap, topic) {
  const client = await connect(url, { cap });
  try {
    const messages = client.mailbox.subscribe(topic, { credit: 4 });
    const first = messages.next();
    window.subscribed = true;
    const { value: msg } = await first;
    await msg.ack();
    return { text: text(msg.body), e2e: msg.e2e };
  } finally {
    await client.close();
  }
}

async function sendOne(url, cap, topic, message) {
  const client = await connect(url, { cap });
  try {
    const { msgId } = await client.mailbox.send(topic, utf8(message), { e2e: true });
    return typeof msgId;
  } finally {
    await client.close();
  }
}

async function verifiedGet(url, cap, addr) {
  const client = await connect(url, { cap });
  try {
    const bytes = await client.storage.getBytes(addr);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return {
      size: bytes.byteLength,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    };
  } finally {
    await client.close();
  }
}

async function tryConnect(url) {
  try {
    const client = await connect(url, { connectTimeoutMs: 5_000 });
    await client.close();
    return "connected";
  } catch (err) {
    return err.name;
  }
}

window.omnigateTest = { echoOnce, requestWithoutCap, receiveOne, sendOne, verifiedGet, tryConnect };
window.pageReady = true;
