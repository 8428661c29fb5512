#!/usr/bin/env node
// The `advdyn` command: parses and validates, calls the library, prints. No logic of its own.
// Exit codes: 0 done, 1 failed, 2 a usage error (one line naming the problem), 3 the folder is in
// use, 130 interrupted (Ctrl-C, SIGTERM: stopped at a safe point; rerunning resumes).
import { CommanderError } from "commander";
import { FolderInUse } from "../store/lock.js";
import { Interrupted } from "../torch/errors.js";
import { OptionError } from "../util/schema.js";
import { version } from "../util/version.js";
import { UsageError } from "./usage.js";

// A reader that stops early (`advdyn reference | head`) ends the output, not in a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});

const argv = process.argv.slice(2);
// --version alone needs none of the commands (loading their registries is most of a start-up).
const { program } = argv.length === 1 && argv[0] === "--version" ? { program: undefined } : await import("./program.js");
const command = argv.find((a) => !a.startsWith("-"));
const hint = command ? ` (advdyn ${command} --help lists the options)` : " (advdyn --help lists the commands)";

try {
  if (!program) {
    console.log(version);
  } else if (argv.length === 0) {
    console.log((await program(argv)).helpInformation());
    process.exitCode = 2;
  } else {
    await (await program(argv)).parseAsync(argv, { from: "user" });
  }
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version end here too, already printed.
    if (e.exitCode !== 0) console.error(`advdyn: ${e.message.replace(/^error: /, "").replace(/\n/g, " ")}${hint}`);
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError || e instanceof OptionError) {
    console.error(`advdyn: ${e.message}${hint}`);
    process.exitCode = 2;
  } else if (e instanceof Interrupted) {
    console.error(`\nadvdyn: ${e.message}`);
    process.exitCode = 130;
  } else if (e instanceof FolderInUse) {
    console.error(`advdyn: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    console.error(`advdyn: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
