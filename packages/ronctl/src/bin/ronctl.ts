#!/usr/bin/env node
import { createProgram } from "../program.js";
import { errorReport } from "../report-error.js";

try {
  await createProgram().parseAsync();
} catch (err) {
  // --verbose is read from argv: the failure may come before or during option parsing.
  process.stderr.write(`${errorReport(err, process.argv.includes("--verbose")).join("\n")}\n`);
  process.exitCode = 1;
}
