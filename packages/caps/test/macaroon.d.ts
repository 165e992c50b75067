// The slice of the untyped `macaroon` package (dev dependency) the interop tests use.
declare module "macaroon" {
  interface Macaroon {
    addFirstPartyCaveat(caveat: string | Uint8Array): void;
    verify(rootKey: Uint8Array, check: (condition: string) => string | null): void;
    exportJSON(): Record<string, unknown>;
  }
  const macaroon: {
    newMacaroon(params: {
      identifier: string | Uint8Array;
      rootKey: Uint8Array;
      version?: 1 | 2;
      location?: string;
    }): Macaroon;
    importMacaroon(json: object): Macaroon;
  };
  export default macaroon;
}
