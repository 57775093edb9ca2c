// The lab tests use the shared end-to-end harness: test build of the firmware, temp dirs, polling.
export { cleanup, dir, firmware, until } from "../support/e2e";
