import { readFileSync } from "node:fs";

/** advdyn's version (package.json), recorded with every job and study. */
export const version: string = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
