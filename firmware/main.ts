// Entry point of the bundle: the device application (firmware/app/device.ts).
import { AppOp, dev } from "./app/device";

dev(AppOp.Boot);
