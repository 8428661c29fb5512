export * as functional from "./functional.js";
