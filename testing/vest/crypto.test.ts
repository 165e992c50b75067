import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decryptWithMessageKey } from "../../apps/vest/src/crypto/aead.js";
import { concatBytes, fromBase64Url, toBase64Url } from "../../apps/vest/src/crypto/bytes.js";
import { dh } from "../../apps/vest/src/crypto/dh.js";
import { parseEnvelope } from "../../apps/vest/src/crypto/envelope.js";
import {
  BundleError,
  ChatIdentity,
  ChatSessions,
  type ChatSessionsOptions,
  DecryptError,
  DuplicateMessageError,
  describeEnvelope,
  EnvelopeError,
  type PublicBundle,
  StateError,
  TooManySkippedError,
  VestCryptoError,
  verifyBundle,
} from "../../apps/vest/src/crypto/index.js";
import { deriveChainStep, deriveRootStep } from "../../apps/vest/src/crypto/kdf.js";
import { seededRandom } from "../support/seeded-random.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (data: Uint8Array) => decoder.decode(data);

interface Party {
  identity: ChatIdentity;
  sessions: ChatSessions;
  bundle: PublicBundle;
}

function party(user: string, options?: ChatSessionsOptions): Party {
  const identity = ChatIdentity.create(user);
  return { identity, sessions: new ChatSessions(identity, undefined, options), bundle: identity.bundle() };
}

function send(from: Party, to: Party, message: string): Uint8Array {
  return from.sessions.seal(to.bundle, bytes(message));
}

function receive(at: Party, from: Party, envelope: Uint8Array): string {
  return text(at.sessions.open(from.bundle, envelope));
}

function snapshot(party: Party): string {
  return JSON.stringify(party.sessions.toJSON());
}

/** Reloads a party from JSON text, as the page does after a reload. */
function reloaded(party: Party, options?: ChatSessionsOptions): Party {
  const identity = ChatIdentity.fromJSON(JSON.parse(JSON.stringify(party.identity.toJSON())));
  const sessions = new ChatSessions(identity, JSON.parse(snapshot(party)), options);
  return { identity, sessions, bundle: identity.bundle() };
}

/** Asserts `open` throws `errorClass` (and, if given, one of `reasons`) and leaves the state untouched. */
function expectRejected(
  at: Party,
  from: PublicBundle,
  envelope: Uint8Array,
  errorClasses: readonly (abstract new (...args: never[]) => VestCryptoError)[],
): VestCryptoError {
  const before = snapshot(at);
  let caught: unknown;
  try {
    at.sessions.open(from, envelope);
  } catch (error) {
    caught = error;
  }
  expect(caught, "open should throw").toBeInstanceOf(VestCryptoError);
  expect(
    errorClasses.some((errorClass) => caught instanceof errorClass),
    `unexpected ${String(caught)}`,
  ).toBe(true);
  expect(snapshot(at)).toBe(before);
  return caught as VestCryptoError;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const result = [...items];
  for (let index = result.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

function expectJsonSafe(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) expectJsonSafe(item);
  } else if (typeof value === "object" && value !== null) {
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    for (const item of Object.values(value)) expectJsonSafe(item);
  } else {
    expect(["string", "number"]).toContain(typeof value);
  }
}

describe("vest crypto: bundles and identities", () => {
  it("verifies a published bundle and returns only its known fields", () => {
    const alice = ChatIdentity.create("alice");
    const bundle = alice.bundle();
    expect(verifyBundle(JSON.parse(JSON.stringify({ ...bundle, extra: "ignored" })))).toEqual(bundle);
    expect(bundle.v).toBe(1);
    expect(bundle.user).toBe("alice");
  });

  it("rejects forged signatures and malformed bundles with a BundleError reason", () => {
    const alice = ChatIdentity.create("alice").bundle();
    const mallory = ChatIdentity.create("mallory").bundle();
    const signature = fromBase64Url(alice.signature) ?? new Uint8Array();
    signature[10] = (signature[10] ?? 0) ^ 1;
    const cases: [unknown, string][] = [
      [{ ...alice, signedPrekey: mallory.signedPrekey }, "bad_signature"],
      [{ ...alice, identityDh: mallory.identityDh }, "bad_signature"],
      [{ ...alice, user: "alicf" }, "bad_signature"],
      [{ ...alice, signedPrekeyId: alice.signedPrekeyId + 1 }, "bad_signature"],
      [{ ...alice, identitySign: mallory.identitySign }, "bad_signature"],
      [{ ...alice, signature: toBase64Url(signature) }, "bad_signature"],
      [null, "not_an_object"],
      ["bundle", "not_an_object"],
      [[alice], "not_an_object"],
      [{ ...alice, v: 2 }, "unsupported_version"],
      [{ ...alice, user: "" }, "invalid_user"],
      [{ ...alice, user: "x".repeat(256) }, "invalid_user"],
      [{ ...alice, identityDh: `${alice.identityDh}A` }, "invalid_key"],
      [{ ...alice, signedPrekey: alice.signedPrekey.replace(/.$/, "!") }, "invalid_key"],
      [{ ...alice, signedPrekeyId: -1 }, "invalid_prekey_id"],
      [{ ...alice, signedPrekeyId: 1.5 }, "invalid_prekey_id"],
      [{ ...alice, signature: alice.signature.slice(1) }, "invalid_signature"],
      [{ ...alice, signature: undefined }, "invalid_signature"],
    ];
    for (const [value, reason] of cases) {
      expect(() => verifyBundle(value)).toThrow(BundleError);
      try {
        verifyBundle(value);
      } catch (error) {
        expect((error as BundleError).reason, JSON.stringify(value)).toBe(reason);
      }
    }
  });

  it("refuses to start a session with a forged bundle, leaving the state unchanged", () => {
    const alice = party("alice");
    const bob = party("bob");
    const mallory = party("mallory");
    const forged = { ...bob.bundle, signedPrekey: mallory.bundle.signedPrekey };
    const before = snapshot(alice);
    expect(() => alice.sessions.seal(forged, bytes("hi"))).toThrow(BundleError);
    expect(snapshot(alice)).toBe(before);
  });

  it("round-trips an identity through JSON and keeps its bundle", () => {
    const alice = ChatIdentity.create("alice");
    const state = JSON.parse(JSON.stringify(alice.toJSON()));
    expectJsonSafe(state);
    const restored = ChatIdentity.fromJSON(state);
    expect(restored.user).toBe("alice");
    expect(restored.bundle()).toEqual(alice.bundle());
    expect(restored.toJSON()).toEqual(alice.toJSON());
    expect(() => ChatIdentity.fromJSON({ ...state, identityDhSecret: "short" })).toThrow(StateError);
    expect(() => ChatIdentity.fromJSON({ ...state, v: 3 })).toThrow(StateError);
    expect(() => ChatIdentity.fromJSON(null as never)).toThrow(StateError);
  });

  it("gives both users the same 60-digit safety number, which changes with either identity", () => {
    const alice = ChatIdentity.create("alice");
    const bob = ChatIdentity.create("bob");
    const number = alice.safetyNumber(bob.bundle());
    expect(number).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(bob.safetyNumber(alice.bundle())).toBe(number);
    expect(ChatIdentity.create("bob").safetyNumber(alice.bundle())).not.toBe(number);
    const rotated = ChatIdentity.fromJSON(bob.toJSON());
    rotated.rotateSignedPrekey();
    expect(rotated.safetyNumber(alice.bundle())).toBe(number); // prekeys are not identity
  });

  it("rotates the signed prekey: sessions against the previous one still start, older ones do not", () => {
    const alice = party("alice");
    const carol = party("carol");
    const bob = party("bob");
    const firstBundle = bob.bundle;
    const fromAlice = send(alice, bob, "to prekey 1");
    bob.identity.rotateSignedPrekey();
    bob.bundle = bob.identity.bundle();
    expect(bob.bundle.signedPrekeyId).toBe(firstBundle.signedPrekeyId + 1);
    expect(verifyBundle(bob.bundle)).toEqual(bob.bundle);
    expect(receive(bob, alice, fromAlice)).toBe("to prekey 1");

    const fromCarol = carol.sessions.seal(firstBundle, bytes("also to prekey 1"));
    bob.identity.rotateSignedPrekey();
    bob.bundle = bob.identity.bundle();
    const error = expectRejected(bob, carol.bundle, fromCarol, [DecryptError]);
    expect(error.reason).toBe("unknown_signed_prekey");

    // A pending session aimed at an old prekey is replaced once the sender sees the new bundle.
    const stale = describeEnvelope(carol.sessions.seal(firstBundle, bytes("again")));
    const fresh = describeEnvelope(send(carol, bob, "to the current prekey"));
    expect(fresh.sessionId).not.toBe(stale.sessionId);
    expect(fresh.signedPrekeyId).toBe(bob.bundle.signedPrekeyId);
  });
});

describe("vest crypto: sessions", () => {
  it("round-trips both directions, with a DH ratchet step on every turn and the init only until a reply", () => {
    const alice = party("alice");
    const bob = party("bob");
    const ratchetKeys = new Set<string>();
    const first = send(alice, bob, "hello bob");
    const second = send(alice, bob, "are you there?");
    expect(describeEnvelope(first).hasInit).toBe(true);
    expect(describeEnvelope(second).hasInit).toBe(true);
    expect(ChatSessions.senderOf(first)).toBe("alice");
    expect(receive(bob, alice, first)).toBe("hello bob");
    expect(receive(bob, alice, second)).toBe("are you there?");
    for (let turn = 0; turn < 6; turn++) {
      const reply = send(bob, alice, `bob ${turn}`);
      expect(describeEnvelope(reply).hasInit).toBe(false);
      ratchetKeys.add(describeEnvelope(reply).ratchetKey);
      expect(receive(alice, bob, reply)).toBe(`bob ${turn}`);
      const answer = send(alice, bob, `alice ${turn}`);
      expect(describeEnvelope(answer).hasInit).toBe(false);
      ratchetKeys.add(describeEnvelope(answer).ratchetKey);
      expect(receive(bob, alice, answer)).toBe(`alice ${turn}`);
    }
    expect(ratchetKeys.size).toBe(12);
    expect(alice.sessions.toJSON().sessions).toHaveLength(1);
    expect(bob.sessions.toJSON().sessions).toHaveLength(1);
  });

  it("opens 50 messages delivered shuffled with duplicates exactly once, across ratchet steps", () => {
    const random = seededRandom(50);
    const alice = party("alice");
    const bob = party("bob");
    const opened: string[] = [];
    const undelivered: { envelope: Uint8Array; message: string }[] = [];
    const delivered: Uint8Array[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const envelopes = Array.from({ length: 5 }, (_, index) => {
        const message = `message ${batch * 5 + index}`;
        return { envelope: send(alice, bob, message), message };
      });
      // Bob gets only the last of each batch now, so Alice's chain moves on while four wait.
      const probe = envelopes.pop();
      if (probe === undefined) throw new Error("empty batch");
      opened.push(receive(bob, alice, probe.envelope));
      delivered.push(probe.envelope);
      undelivered.push(...envelopes);
      expect(receive(alice, bob, send(bob, alice, `ack ${batch}`))).toBe(`ack ${batch}`);
    }
    const deliveries = shuffled(
      [
        ...undelivered.map((item) => ({ ...item, duplicate: false })),
        ...undelivered.slice(0, 15).map((item) => ({ ...item, duplicate: true })),
        ...delivered.map((envelope) => ({ envelope, message: "", duplicate: true })),
      ],
      random,
    );
    const seen = new Set<Uint8Array>(delivered);
    let duplicatesRejected = 0;
    for (const delivery of deliveries) {
      if (seen.has(delivery.envelope)) {
        expectRejected(bob, alice.bundle, delivery.envelope, [DuplicateMessageError]);
        duplicatesRejected++;
      } else {
        seen.add(delivery.envelope);
        opened.push(receive(bob, alice, delivery.envelope));
      }
    }
    expect(duplicatesRejected).toBe(25);
    expect(opened.sort()).toEqual(Array.from({ length: 50 }, (_, index) => `message ${index}`).sort());
    expect(bob.sessions.toJSON().sessions[0]?.ratchet.skipped).toEqual([]);
  });

  it("reorders within a chain and across DH ratchet steps using skipped message keys", () => {
    const alice = party("alice");
    const bob = party("bob");
    const chainOne = ["a0", "a1", "a2"].map((message) => send(alice, bob, message));
    expect(receive(bob, alice, chainOne[0] as Uint8Array)).toBe("a0");
    expect(receive(alice, bob, send(bob, alice, "b0"))).toBe("b0");
    const chainTwo = ["a3", "a4"].map((message) => send(alice, bob, message));
    expect(describeEnvelope(chainTwo[1] as Uint8Array).previousChainLength).toBe(3);
    // The newest first: Bob steps his ratchet, keeping keys for a1, a2 (old chain) and a3.
    expect(receive(bob, alice, chainTwo[1] as Uint8Array)).toBe("a4");
    expect(bob.sessions.toJSON().sessions[0]?.ratchet.skipped).toHaveLength(3);
    expect(receive(bob, alice, chainOne[2] as Uint8Array)).toBe("a2");
    expect(receive(bob, alice, chainTwo[0] as Uint8Array)).toBe("a3");
    expect(receive(bob, alice, chainOne[1] as Uint8Array)).toBe("a1");
    expect(bob.sessions.toJSON().sessions[0]?.ratchet.skipped).toHaveLength(0);
    for (const envelope of [...chainOne, ...chainTwo]) {
      expectRejected(bob, alice.bundle, envelope, [DuplicateMessageError]);
    }
  });

  it("refuses a gap over maxSkip with TooManySkippedError and no state change", () => {
    const options = { maxSkip: 5 };
    const alice = party("alice", options);
    const bob = party("bob", options);
    const first = Array.from({ length: 7 }, (_, index) => send(alice, bob, `first ${index}`));
    expect(expectRejected(bob, alice.bundle, first[6] as Uint8Array, [TooManySkippedError]).reason).toBe(
      "too_many_skipped",
    );
    expect(bob.sessions.toJSON().sessions).toHaveLength(0);
    expect(receive(bob, alice, first[5] as Uint8Array)).toBe("first 5");
    expect(receive(bob, alice, first[6] as Uint8Array)).toBe("first 6");
    expect(receive(alice, bob, send(bob, alice, "ok"))).toBe("ok");
    // Within an established chain, and across a ratchet step where the old chain's tail counts too.
    const later = Array.from({ length: 7 }, (_, index) => send(alice, bob, `later ${index}`));
    expectRejected(bob, alice.bundle, later[6] as Uint8Array, [TooManySkippedError]);
    expect(receive(bob, alice, later[0] as Uint8Array)).toBe("later 0");
    expect(receive(alice, bob, send(bob, alice, "ok again"))).toBe("ok again");
    const next = Array.from({ length: 3 }, (_, index) => send(alice, bob, `next ${index}`));
    expectRejected(bob, alice.bundle, next[0] as Uint8Array, [TooManySkippedError]); // 6 left of the old chain
    expect(receive(bob, alice, later[5] as Uint8Array)).toBe("later 5");
    expect(receive(bob, alice, next[2] as Uint8Array)).toBe("next 2");
  });

  it("caps skipped keys across sessions, evicting the oldest", () => {
    const options = { maxSkip: 8, maxSkippedKeysTotal: 10 };
    const bob = party("bob", options);
    const alice = party("alice");
    const carol = party("carol");
    const fromAlice = Array.from({ length: 9 }, (_, index) => send(alice, bob, `alice ${index}`));
    const fromCarol = Array.from({ length: 9 }, (_, index) => send(carol, bob, `carol ${index}`));
    receive(bob, alice, fromAlice[8] as Uint8Array); // 8 skipped keys
    receive(bob, carol, fromCarol[8] as Uint8Array); // 8 more: 6 of Alice's oldest go
    const skipped = bob.sessions.toJSON().sessions.map((session) => session.ratchet.skipped.length);
    expect(skipped.reduce((sum, count) => sum + count, 0)).toBe(10);
    expectRejected(bob, alice.bundle, fromAlice[0] as Uint8Array, [DuplicateMessageError]);
    expect(receive(bob, alice, fromAlice[7] as Uint8Array)).toBe("alice 7");
    expect(receive(bob, carol, fromCarol[0] as Uint8Array)).toBe("carol 0");
  });

  it("rejects tampering with any region of the envelope, leaving the state unchanged", () => {
    const alice = party("alice");
    const bob = party("bob");
    const envelope = send(alice, bob, "tamper with me");
    const sender = 3;
    const sessionId = sender + "alice".length;
    const init = sessionId + 16;
    const ratchet = init + 100;
    const nonce = ratchet + 40;
    const body = nonce + 24;
    const tag = envelope.length - 16;
    type ErrorClass = abstract new (...args: never[]) => VestCryptoError;
    const regions: [string, number, number, ErrorClass[]][] = [
      ["version", 0, 1, [EnvelopeError]],
      ["flags", 1, 2, [EnvelopeError, DecryptError]],
      ["sender length", 2, 3, [EnvelopeError, DecryptError]],
      ["sender", sender, sessionId, [EnvelopeError, DecryptError]],
      ["session id", sessionId, init, [DecryptError]],
      ["init identity key", init, init + 32, [DecryptError]],
      ["init signing key", init + 32, init + 64, [DecryptError]],
      ["init ephemeral key", init + 64, init + 96, [DecryptError]],
      ["init signed prekey id", init + 96, ratchet, [DecryptError]],
      ["ratchet key", ratchet, ratchet + 32, [DecryptError]],
      ["previous chain length", ratchet + 32, ratchet + 36, [DecryptError, TooManySkippedError]],
      ["message number", ratchet + 36, nonce, [DecryptError, TooManySkippedError]],
      ["nonce", nonce, body, [DecryptError]],
      ["ciphertext", body, tag, [DecryptError]],
      ["tag", tag, envelope.length, [DecryptError]],
    ];
    expect(parseEnvelope(envelope).headerBytes.length).toBe(nonce);
    for (const [, start, end, errors] of regions) {
      for (const index of new Set([start, Math.floor((start + end - 1) / 2), end - 1])) {
        for (const mask of [0x01, 0x80]) {
          const tampered = envelope.slice();
          tampered[index] = (tampered[index] ?? 0) ^ mask;
          expectRejected(bob, alice.bundle, tampered, errors);
        }
      }
    }
    for (let length = 0; length < body + 24; length++) {
      expectRejected(bob, alice.bundle, envelope.slice(0, length), [EnvelopeError, DecryptError]);
    }
    for (const cut of [1, 15, 16, 17]) {
      expectRejected(bob, alice.bundle, envelope.slice(0, envelope.length - cut), [DecryptError]);
    }
    expectRejected(bob, alice.bundle, concatBytes(envelope, Uint8Array.of(0)), [DecryptError]);
    expect(receive(bob, alice, envelope)).toBe("tamper with me");

    // The same on an established session, where the header names a session Bob already has.
    const reply = send(bob, alice, "reply");
    expect(receive(alice, bob, reply)).toBe("reply");
    const later = send(alice, bob, "later");
    const laterBody = parseEnvelope(later).headerBytes.length;
    for (let index = 0; index < laterBody + 27; index++) {
      const tampered = later.slice();
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      expectRejected(bob, alice.bundle, tampered, [EnvelopeError, DecryptError, TooManySkippedError]);
    }
    expectRejected(bob, alice.bundle, later.slice(0, -1), [DecryptError]);
    expect(receive(bob, alice, later)).toBe("later");
  });

  it("throws EnvelopeError, never another error type, on garbage", () => {
    const bob = party("bob");
    const alice = party("alice");
    for (const garbage of [new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(2, 0, 1, 97), "text", null]) {
      expect(() => ChatSessions.senderOf(garbage as Uint8Array)).toThrow(EnvelopeError);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (data, looksLikeV1) => {
        if (looksLikeV1 && data.length > 0) data[0] = 1;
        try {
          ChatSessions.senderOf(data);
        } catch (error) {
          expect(error).toBeInstanceOf(EnvelopeError);
        }
        expect(() => bob.sessions.open(alice.bundle, data)).toThrow(VestCryptoError);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects a message whose sender identity does not match the bundle given", () => {
    const alice = party("alice");
    const bob = party("bob");
    const carol = party("carol");
    const impostor = party("alice"); // same name, other keys: what a swapped directory entry looks like
    const first = send(alice, bob, "from the real alice");
    expect(expectRejected(bob, impostor.bundle, first, [DecryptError]).reason).toBe(
      "sender_identity_mismatch",
    );
    expect(expectRejected(bob, carol.bundle, first, [DecryptError]).reason).toBe("sender_mismatch");
    const forged = send(impostor, bob, "from the impostor");
    expect(expectRejected(bob, alice.bundle, forged, [DecryptError]).reason).toBe("sender_identity_mismatch");
    expect(receive(bob, alice, first)).toBe("from the real alice");
    // On an established session the session's own identity authenticates: whatever bundle
    // the directory shows now, the message opens as the real alice's (and nobody else's).
    expect(receive(alice, bob, send(bob, alice, "hi alice"))).toBe("hi alice");
    const later = send(alice, bob, "later");
    expect(describeEnvelope(later).hasInit).toBe(false);
    expect(receive(bob, impostor, later)).toBe("later");
  });

  it("continues every session after a JSON round trip mid-conversation, pending skipped keys included", () => {
    let alice = party("alice");
    let bob = party("bob");
    const early = ["a0", "a1", "a2", "a3"].map((message) => send(alice, bob, message));
    expect(receive(bob, alice, early[3] as Uint8Array)).toBe("a3");
    expect(receive(alice, bob, send(bob, alice, "b0"))).toBe("b0");
    const pending = send(alice, bob, "a4");
    const aliceState = alice.sessions.toJSON();
    expectJsonSafe(aliceState);
    expectJsonSafe(bob.sessions.toJSON());
    expect(bob.sessions.toJSON().sessions[0]?.ratchet.skipped).toHaveLength(3);

    alice = reloaded(alice);
    bob = reloaded(bob);
    expect(alice.sessions.toJSON()).toEqual(aliceState);
    expect(receive(bob, alice, early[1] as Uint8Array)).toBe("a1");
    expect(receive(bob, alice, pending)).toBe("a4");
    expect(receive(bob, alice, early[0] as Uint8Array)).toBe("a0");
    expectRejected(bob, alice.bundle, early[3] as Uint8Array, [DuplicateMessageError]);
    bob = reloaded(bob);
    expect(receive(bob, alice, early[2] as Uint8Array)).toBe("a2");
    expect(receive(alice, bob, send(bob, alice, "b1"))).toBe("b1");
    expect(receive(bob, alice, send(alice, bob, "a5"))).toBe("a5");

    expect(() => new ChatSessions(bob.identity, aliceState)).toThrow(StateError);
    expect(() => new ChatSessions(alice.identity, { ...aliceState, sessions: [{}] } as never)).toThrow(
      StateError,
    );
  });

  it("keeps forward secrecy: neither side's later state opens earlier messages", () => {
    const alice = party("alice");
    const bob = party("bob");
    const transcript: Uint8Array[] = [];
    const exchange = (from: Party, to: Party, message: string) => {
      const envelope = send(from, to, message);
      transcript.push(envelope);
      expect(receive(to, from, envelope)).toBe(message);
      return envelope;
    };
    exchange(alice, bob, "a0");
    exchange(bob, alice, "b0");
    exchange(alice, bob, "a1");
    const aliceBeforeSending = alice.sessions.toJSON();
    const bobBeforeOpening = bob.sessions.toJSON();
    const target = send(alice, bob, "the secret");
    transcript.push(target);
    const aliceAfterSending = alice.sessions.toJSON();
    const late = send(alice, bob, "late");
    const overtaking = send(alice, bob, "overtaking");
    transcript.push(late, overtaking);
    expect(receive(bob, alice, overtaking)).toBe("overtaking");
    const bobHoldingSkippedKey = bob.sessions.toJSON();
    expect(receive(bob, alice, target)).toBe("the secret");
    expect(receive(bob, alice, late)).toBe("late");
    exchange(alice, bob, "a2");
    const bobAfterOpening = bob.sessions.toJSON();
    exchange(bob, alice, "b1");

    // Positive controls: the search below does find the key in states from before.
    expect(attackerOpens(aliceBeforeSending, target, transcript)).toBe("the secret");
    expect(attackerOpens(bobBeforeOpening, target, transcript)).toBe("the secret");
    expect(attackerOpens(bobHoldingSkippedKey, target, transcript)).toBe("the secret");
    // After: the sender's state and the receiver's state hold nothing that opens it.
    expect(attackerOpens(aliceAfterSending, target, transcript)).toBeUndefined();
    expect(attackerOpens(bobAfterOpening, target, transcript)).toBeUndefined();
    for (const envelope of transcript.slice(0, -1)) {
      expect(attackerOpens(bobAfterOpening, envelope, transcript)).toBeUndefined();
      expect(attackerOpens(alice.sessions.toJSON(), envelope, transcript)).toBeUndefined();
    }
    // And through the API: a copy of Bob's current state refuses the earlier messages.
    const bobCopy = reloaded(bob);
    for (const envelope of transcript.filter((item) => ChatSessions.senderOf(item) === "alice")) {
      expectRejected(bobCopy, alice.bundle, envelope, [DuplicateMessageError]);
    }
  });

  it("handles simultaneous initiation: both read everything, then converge on one session", () => {
    const alice = party("alice");
    const bob = party("bob");
    const fromAlice = send(alice, bob, "hi bob, new here");
    const fromBob = send(bob, alice, "hi alice, new here");
    expect(describeEnvelope(fromAlice).sessionId).not.toBe(describeEnvelope(fromBob).sessionId);
    expect(receive(alice, bob, fromBob)).toBe("hi alice, new here");
    expect(receive(bob, alice, fromAlice)).toBe("hi bob, new here");
    expect(alice.sessions.toJSON().sessions).toHaveLength(2);
    expect(bob.sessions.toJSON().sessions).toHaveLength(2);

    // Each now answers on the session it last received on; crossing replies still open.
    const aliceReply = send(alice, bob, "reply from alice");
    const bobReply = send(bob, alice, "reply from bob");
    expect(describeEnvelope(aliceReply).sessionId).toBe(describeEnvelope(fromBob).sessionId);
    expect(describeEnvelope(bobReply).sessionId).toBe(describeEnvelope(fromAlice).sessionId);
    expect(receive(bob, alice, aliceReply)).toBe("reply from alice");
    expect(receive(alice, bob, bobReply)).toBe("reply from bob");

    // Once one speaks after hearing the other, both use the same session.
    const settle = send(alice, bob, "settling");
    expect(receive(bob, alice, settle)).toBe("settling");
    const answer = send(bob, alice, "settled");
    expect(describeEnvelope(answer).sessionId).toBe(describeEnvelope(settle).sessionId);
    expect(receive(alice, bob, answer)).toBe("settled");
    expect(describeEnvelope(send(alice, bob, "same")).sessionId).toBe(describeEnvelope(settle).sessionId);
  });

  it("keeps at most maxSessionsPerPeer sessions and refuses inits of evicted ones", () => {
    const bob = party("bob", { maxSessionsPerPeer: 2 });
    const alice = party("alice");
    // Three independent session stores for the same identity, as after lost local state.
    const starts = [0, 1, 2].map((index) => {
      const sessions = new ChatSessions(alice.identity);
      return sessions.seal(bob.bundle, bytes(`start ${index}`));
    });
    for (const [index, envelope] of starts.entries()) {
      expect(receive(bob, alice, envelope)).toBe(`start ${index}`);
    }
    expect(bob.sessions.toJSON().sessions).toHaveLength(2);
    expect(expectRejected(bob, alice.bundle, starts[0] as Uint8Array, [DecryptError]).reason).toBe(
      "session_retired",
    );
    expectRejected(bob, alice.bundle, starts[2] as Uint8Array, [DuplicateMessageError]);
  });

  it("pads plaintexts to whole cells, so sizes show only the number of cells", () => {
    const cellSize = 1024;
    const alice = party("alice", { cellSize });
    const bob = party("bob");
    expect(receive(bob, alice, send(alice, bob, "start"))).toBe("start");
    expect(receive(alice, bob, send(bob, alice, "ok"))).toBe("ok");
    const sizes = [0, 1, cellSize - 20, cellSize - 4, cellSize - 3, 2 * cellSize].map((length) => {
      const plaintext = new Uint8Array(length).fill(7);
      const envelope = alice.sessions.seal(bob.bundle, plaintext);
      expect(bob.sessions.open(alice.bundle, envelope)).toEqual(plaintext);
      return describeEnvelope(envelope).ciphertextBytes;
    });
    expect(sizes).toEqual([1, 1, 1, 1, 2, 3].map((cells) => cells * cellSize + 16));
    const short = send(alice, bob, "x");
    const long = alice.sessions.seal(bob.bundle, new Uint8Array(cellSize - 20));
    expect(short.length).toBe(long.length);
  });

  it("property: any delivery order with redeliveries opens every message exactly once", () => {
    type Op =
      | { kind: "send"; from: "alice" | "bob" }
      | { kind: "deliver"; to: "alice" | "bob"; pick: number; redeliver: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("send" as const),
        from: fc.constantFrom("alice" as const, "bob" as const),
      }),
      fc.record({
        kind: fc.constant("deliver" as const),
        to: fc.constantFrom("alice" as const, "bob" as const),
        pick: fc.nat(),
        redeliver: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 36 }), fc.integer(), (ops, seed) => {
        const parties = { alice: party("alice"), bob: party("bob") };
        const other = { alice: parties.bob, bob: parties.alice };
        type Letter = { envelope: Uint8Array; message: string };
        const inFlight: Record<"alice" | "bob", Letter[]> = { alice: [], bob: [] };
        const delivered: Record<"alice" | "bob", Letter[]> = { alice: [], bob: [] };
        const opened: string[] = [];
        const sent: string[] = [];
        const deliver = (to: "alice" | "bob", letter: Letter) => {
          if (delivered[to].includes(letter)) {
            expectRejected(parties[to], other[to].bundle, letter.envelope, [DuplicateMessageError]);
            return;
          }
          expect(receive(parties[to], other[to], letter.envelope)).toBe(letter.message);
          delivered[to].push(letter);
          opened.push(letter.message);
        };
        for (const step of ops) {
          if (step.kind === "send") {
            const to = step.from === "alice" ? "bob" : "alice";
            const message = `${step.from} #${sent.length}`;
            sent.push(message);
            inFlight[to].push({ envelope: send(parties[step.from], parties[to], message), message });
          } else if (step.redeliver && delivered[step.to].length > 0) {
            deliver(step.to, delivered[step.to][step.pick % delivered[step.to].length] as Letter);
          } else if (inFlight[step.to].length > 0) {
            const [letter] = inFlight[step.to].splice(step.pick % inFlight[step.to].length, 1);
            deliver(step.to, letter as Letter);
          }
        }
        const random = seededRandom(seed);
        for (const to of ["alice", "bob"] as const) {
          const rest = [...inFlight[to], ...inFlight[to].filter(() => random() < 0.3)];
          for (const letter of shuffled(rest, random)) deliver(to, letter);
        }
        expect(opened.sort()).toEqual(sent.sort());
      }),
      { numRuns: 30 },
    );
  });
});

/**
 * What someone holding a copy of a saved sessions state could try: every 32-byte value in it as a
 * message key or chain key (walked forward), and root-key steps over every DH it can compute
 * with the state's secrets and the ratchet keys seen on the wire. Returns the plaintext if any works.
 */
function attackerOpens(
  state: unknown,
  target: Uint8Array,
  transcript: readonly Uint8Array[],
): string | undefined {
  const keys = new Set<string>();
  const secrets = new Set<string>();
  const roots = new Set<string>();
  const associatedData = new Set<string>();
  const collect = (value: unknown, field: string) => {
    if (typeof value === "string") {
      if (field === "associatedData") associatedData.add(value);
      else if (fromBase64Url(value)?.length === 32) {
        keys.add(value);
        if (field === "selfSecret") secrets.add(value);
        if (field === "rootKey") roots.add(value);
      }
    } else if (Array.isArray(value)) {
      for (const item of value) collect(item, field);
    } else if (typeof value === "object" && value !== null) {
      for (const [name, item] of Object.entries(value)) collect(item, name);
    }
  };
  collect(state, "");
  const publics = new Set([...keys, ...transcript.map((envelope) => describeEnvelope(envelope).ratchetKey)]);
  const chainSeeds = [...keys].map((key) => fromBase64Url(key) as Uint8Array);
  for (const root of roots) {
    for (const secret of secrets) {
      for (const publicKey of publics) {
        const output = dh(fromBase64Url(secret) as Uint8Array, fromBase64Url(publicKey) as Uint8Array);
        if (output !== undefined)
          chainSeeds.push(deriveRootStep(fromBase64Url(root) as Uint8Array, output).chainKey);
      }
    }
  }
  const { headerBytes, nonce, ciphertext } = parseEnvelope(target);
  const messageKeys = [...chainSeeds];
  for (const seed of chainSeeds) {
    let chainKey = seed;
    for (let step = 0; step < 8; step++) {
      const next = deriveChainStep(chainKey);
      messageKeys.push(next.messageKey);
      chainKey = next.chainKey;
    }
  }
  for (const ad of associatedData) {
    for (const messageKey of messageKeys) {
      const padded = decryptWithMessageKey(
        messageKey,
        nonce,
        ciphertext,
        concatBytes(fromBase64Url(ad) as Uint8Array, headerBytes),
      );
      if (padded !== undefined)
        return text(padded.subarray(4, 4 + new DataView(padded.buffer, padded.byteOffset).getUint32(0)));
    }
  }
  return undefined;
}
