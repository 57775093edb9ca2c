// Entry point of the bundle: the device application (see firmware/app/device.ts and docs/architecture.md).
import { dev } from "./app/device";

dev("B"); // boot
