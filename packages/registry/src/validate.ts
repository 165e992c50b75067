import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { FIELD_RULES, REGISTRY_SCHEMA } from "./schema.js";

/** One schema violation, located by JSON pointer (`/entries/2/id`). */
export interface SchemaViolation {
  pointer: string;
  /** Index in `entries` when the violation is inside an entry. */
  entryIndex?: number;
  message: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` naming a day that exists (2026-02-30 does not). */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
    ajv.addFormat("date", { type: "string", validate: isCalendarDate });
    compiled = ajv.compile(REGISTRY_SCHEMA);
  }
  return compiled;
}

/** Every way `document` breaks the registry schema; empty when it conforms. */
export function validateRegistryDocument(document: unknown): SchemaViolation[] {
  const validate = validator();
  if (validate(document)) return [];
  return dedupe((validate.errors ?? []).map(toViolation));
}

function toViolation(error: ErrorObject): SchemaViolation {
  const match = /^\/entries\/(\d+)(?:\/([^/]+))?/.exec(error.instancePath);
  const entryIndex = match ? Number(match[1]) : undefined;
  const field = match?.[2];
  const pointer = error.instancePath || "/";
  let message: string;
  if (error.keyword === "required") {
    message = `missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
  } else if (error.keyword === "additionalProperties") {
    message = `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  } else if (field && FIELD_RULES[field]) {
    const got = typeof error.data === "string" ? ` (got ${JSON.stringify(error.data)})` : "";
    message = `field "${field}" must be ${FIELD_RULES[field]}${got}`;
  } else {
    message = `${pointer} ${error.message ?? "is invalid"}`;
  }
  return entryIndex === undefined ? { pointer, message } : { pointer, entryIndex, message };
}

/** A field breaking several keywords (pattern and not) is reported once. */
function dedupe(violations: SchemaViolation[]): SchemaViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.pointer}\u0000${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
