/** Review states an entry moves through (see REGISTRY.md). */
export const ENTRY_STATUSES = ["draft", "review", "final", "deprecated"] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

/** One app_proto_id claim, exactly as stored in registry/app_proto_ids.json. */
export interface RegistryEntry {
  /** `0x` and four lowercase hex digits, e.g. `0x1001`. */
  id: string;
  name: string;
  owner: string;
  contact: string;
  /** An `https://` URL or a repository-relative path. */
  spec: string;
  status: EntryStatus;
  /** `YYYY-MM-DD`. */
  created: string;
  /** Key id: the owner's public key is `registry/keys/<key>.pub.pem`. */
  key: string;
  /** Base64 Ed25519 signature over the entry's canonical JSON without this field. */
  signature: string;
}

/** The whole registry file. */
export interface RegistryDocument {
  $schema?: string;
  entries: RegistryEntry[];
}
