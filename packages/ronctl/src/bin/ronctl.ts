#!/usr/bin/env node
import { CommandRefused } from "../errors.js";
import { createProgram } from "../program.js";

try {
  await createProgram().parseAsync();
} catch (err) {
  // A refusal is an answer for the user; anything else is a bug worth its stack trace.
  process.stderr.write(
    `ronctl: ${err instanceof CommandRefused ? err.message : err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exitCode = 1;
}
