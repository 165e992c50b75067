/** What the kernel tells its parts about: the only messages on the bus. */
export type KernelEvent =
  | { kind: "Health"; service: string; ok: boolean }
  | { kind: "ConfigUpdated"; version: number }
  | { kind: "ServiceCrashed"; service: string; reason: string }
  | { kind: "Shutdown" };
