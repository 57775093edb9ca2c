/** Local AWS IoT Core stand-in: public API. See README (issue 6) and /work/shared/aws-iot-contract.md. */
export { startCloud } from "./server";
export type { CloudOptions, Cloud, DeviceCredentials, SessionCredentials } from "./types";
export { isAllowed, iamPolicyFor, DEVICE_POLICY } from "./policy";
export { presignIotUrl } from "./sigv4";
