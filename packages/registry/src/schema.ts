import { ENTRY_STATUSES } from "./types.js";

/** Key ids name a file in registry/keys (`<key id>.pub.pem`). */
export const KEY_ID_PATTERN = "^[a-z][a-z0-9-]{1,62}$";

/**
 * The registry's JSON Schema (draft 2020-12). `registry/app_proto_ids.schema.json` is this
 * object written out for editors and other tools; `ronctl registry verify` reports when the
 * two differ, so the code and the published schema cannot drift apart.
 */
export const REGISTRY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Omnigate app_proto_id registry",
  description: "Who owns which app_proto_id. See REGISTRY.md for how to claim an id.",
  type: "object",
  required: ["entries"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string" },
    entries: { type: "array", items: { $ref: "#/$defs/entry" } },
  },
  $defs: {
    entry: {
      type: "object",
      required: ["id", "name", "owner", "contact", "spec", "status", "created", "key", "signature"],
      additionalProperties: false,
      properties: {
        id: {
          description: "The app_proto_id: 0x and four lowercase hex digits.",
          type: "string",
          pattern: "^0x[0-9a-f]{4}$",
        },
        name: {
          description: "Short unique name: lowercase letters, digits and dashes.",
          type: "string",
          pattern: "^[a-z][a-z0-9-]{0,31}$",
        },
        owner: {
          description: "The person or organisation that owns the id.",
          type: "string",
          minLength: 1,
          maxLength: 200,
          pattern: "\\S",
        },
        contact: {
          description:
            "How to reach the owner: an e-mail address, an https:// URL, or a repository-relative path to a page that says.",
          type: "string",
          maxLength: 200,
          pattern:
            "^([^@\\s/]+@[^@\\s/]+\\.[^@\\s/]+|https://\\S+|[A-Za-z0-9_][A-Za-z0-9._/-]*(#[A-Za-z0-9._-]+)?)$",
          not: { pattern: "(^|/)\\.\\.(/|#|$)" },
        },
        spec: {
          description:
            "Where the protocol spoken on this id is specified: an https:// URL or a repository-relative path.",
          type: "string",
          maxLength: 500,
          pattern: "^(https://\\S+|[A-Za-z0-9_][A-Za-z0-9._/-]*(#[A-Za-z0-9._-]+)?)$",
          not: { pattern: "(^|/)\\.\\.(/|#|$)" },
        },
        status: { type: "string", enum: [...ENTRY_STATUSES] },
        created: { description: "The day the id was claimed.", type: "string", format: "date" },
        key: {
          description: "Key id of the owner's Ed25519 public key: registry/keys/<key>.pub.pem.",
          type: "string",
          pattern: KEY_ID_PATTERN,
        },
        signature: {
          description:
            "Base64 Ed25519 signature by `key` over the canonical JSON of the entry without this field.",
          type: "string",
          pattern: "^[A-Za-z0-9+/]{86}==$",
        },
      },
    },
  },
} as const;

/** What each entry field must look like, in words, for schema messages. */
export const FIELD_RULES: Readonly<Record<string, string>> = {
  id: "0x followed by four lowercase hex digits, e.g. 0x1001",
  name: "lowercase letters, digits and dashes, starting with a letter, at most 32 characters",
  owner: "a non-empty name of at most 200 characters",
  contact: "an e-mail address, an https:// URL or a repository-relative path (no ..)",
  spec: "an https:// URL or a repository-relative path (no ..), optionally with a #fragment",
  status: `one of ${ENTRY_STATUSES.join(", ")}`,
  created: "a calendar date, YYYY-MM-DD",
  key: "a key id: lowercase letters, digits and dashes (the file registry/keys/<key>.pub.pem)",
  signature: "a base64 Ed25519 signature (88 characters); create it with `ronctl registry sign`",
};
