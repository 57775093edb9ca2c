// The device suites use the shared end-to-end harness as is.
export * from "../support/e2e";
