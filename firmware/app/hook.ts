// The app's hook: what the pure shadow and jobs modules ask of the device (publish, apply a
// setting, store, run, reboot, log). One function implements it (dev() in app/device.ts) because a
// function costs Espruino variables and an op number costs nothing: `const enum` members are
// inlined by the build. The values start above MqttEvent's, so the same function can also be the
// MQTT client's event handler (see device.ts).
import type { JobDocument, JobRecord } from "../jobs/jobs";

export const enum HookOp {
  /** Log a line on the serial console (short; never a secret). Info, Warn and Error are consecutive. */
  Info = 16,
  Warn = 17,
  Error = 18,
  /** Publish msg (JSON) under $aws/things/<thing>/ at QoS 0: each request has an answer or is asked again. */
  Publish = 19,
  /** A valid setting from the shadow or a set-config job: apply it and keep it in Storage. */
  Apply = 20,
  /** Restart the board now (after the log line is out). */
  Reboot = 21,
  /** The reboot marker in Storage: without an argument read it ("" when none), with one store it. */
  RebootMarker = 22,
  /** Write a Storage file; false when it could not be written (flash full). */
  Store = 23,
  /** The job operations this device runs, comma separated with a leading and a trailing comma. */
  JobOperations = 24,
  /** Run a supported job operation; done(problem) fails it, done() succeeds. */
  RunJob = 25,
}

export type LogOp = HookOp.Info | HookOp.Warn | HookOp.Error;
/** The settings a device owns in its shadow's desired state (and that a set-config job may change). */
export type SettingKey = "on" | "refresh";

export interface Hook {
  (op: LogOp, line: string): void;
  (op: HookOp.Publish, topic: string, msg: object): void;
  (op: HookOp.Apply, key: SettingKey, value: boolean | number): void;
  (op: HookOp.Reboot): void;
  (op: HookOp.RebootMarker): string;
  (op: HookOp.RebootMarker, marker: string): void;
  (op: HookOp.Store, file: string, rec: JobRecord): boolean;
  (op: HookOp.JobOperations): string;
  (op: HookOp.RunJob, doc: JobDocument, done: (problem?: string) => void): void;
}
