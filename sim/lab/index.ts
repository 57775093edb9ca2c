// The local IoT lab: stand-in cloud (or real AWS IoT) + simulated boards + web view + control API.
export { Lab, LabError, startLab, DEFAULT_DATA_DIR, JOB_OPERATIONS, ROOT } from "./lab";
export type { LabOptions, DeviceView, LabInfo } from "./lab";
export { startLabServer } from "./server";
export type { LabServer } from "./server";
export { bundleIsStale, newestMtime, LAB_FILE, writeLabFile, readLabFile, removeLabFile } from "./files";
export type { LabFile } from "./files";
export { parseArgs, parseValue, parsePairs, ArgError } from "./args";
