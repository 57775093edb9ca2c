// Entry point of the bundle: the device application (see firmware/app/device.ts and README issue-7).
import { dev } from "./app/device";

dev("B"); // boot
