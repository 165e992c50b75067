import { type Meta, OapError } from "@omnigate/oap";

/** Reads typed fields from request meta; anything malformed is the client's 400 bad_meta. */
export class MetaFields {
  constructor(private readonly meta: Meta) {}

  has(name: string): boolean {
    return this.meta[name] !== undefined && this.meta[name] !== null;
  }

  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw bad(`meta ${name} is required (a string)`);
    return value;
  }

  optionalString(name: string, maxLength = 1024): string | undefined {
    const value = this.meta[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value.length === 0) throw bad(`meta ${name} must be a non-empty string`);
    if (value.length > maxLength) throw bad(`meta ${name} is longer than ${maxLength} characters`);
    return value;
  }

  /** An integer in [min, max]; without a fallback the field is required. */
  int(name: string, fallback: number | undefined, min: number, max: number): number {
    const value = this.meta[name];
    if (value === undefined || value === null) {
      if (fallback === undefined) throw bad(`meta ${name} is required (an integer from ${min} to ${max})`);
      return fallback;
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
      throw bad(`meta ${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  /** String-to-string attributes, at most `maxBytes` as JSON. */
  attrs(name: string, maxBytes: number): Record<string, string> | undefined {
    const value = this.meta[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value))
      throw bad(`meta ${name} must be an object of strings`);
    for (const v of Object.values(value)) {
      if (typeof v !== "string") throw bad(`meta ${name} must be an object of strings`);
    }
    if (Buffer.byteLength(JSON.stringify(value)) > maxBytes)
      throw bad(`meta ${name} is larger than ${maxBytes} bytes`);
    return value as Record<string, string>;
  }

  /** A list of 1 to `maxItems` non-empty strings, or undefined when absent. */
  optionalStringList(name: string, maxItems: number, maxLength = 1024): string[] | undefined {
    const value = this.meta[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.length === 0 || value.length > maxItems) {
      throw bad(`meta ${name} must be a list of 1 to ${maxItems} strings`);
    }
    for (const item of value) {
      if (typeof item !== "string" || item.length === 0 || item.length > maxLength) {
        throw bad(`meta ${name} must hold non-empty strings of at most ${maxLength} characters`);
      }
    }
    return value as string[];
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.meta[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || !choices.includes(value as T)) {
      throw bad(`meta ${name} must be one of ${choices.join(", ")}`);
    }
    return value as T;
  }
}

function bad(message: string): OapError {
  return new OapError("bad_meta", message);
}
