/** Paths are relative to the working directory: run ronctl from the repository root. */
export const DEFAULT_REGISTRY_FILE = "registry/app_proto_ids.json";
export const DEFAULT_KEYS_DIR = "registry/keys";
