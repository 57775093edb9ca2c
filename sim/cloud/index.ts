/** Local AWS IoT Core stand-in: public API. See docs/aws-iot-stand-in.md and docs/aws-iot-behaviour.md. */
export { startCloud } from "./server";
export type { CloudOptions, Cloud, DeviceCredentials, SessionCredentials } from "./types";
export { isAllowed, iamPolicyFor, DEVICE_POLICY } from "./policy";
export { presignIotUrl } from "./sigv4";
