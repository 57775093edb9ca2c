import { applyDeviceUpdate, startNext, nextOf, notifyBody, forceStatus, isJobsFailure, parseExpectedVersion, Execution } from "../../sim/cloud/jobs/model";

const ex = (jobId: string, status: Execution["status"], queuedAt: number, seq: number): Execution =>
  ({ jobId, thingName: "t", status, queuedAt, lastUpdatedAt: queuedAt, versionNumber: 1, executionNumber: 1, seq });

describe("jobs state machine (pure)", () => {
  test("next: oldest IN_PROGRESS first, else oldest QUEUED", () => {
    expect(nextOf([ex("a", "QUEUED", 1, 0), ex("b", "QUEUED", 1, 1)])!.jobId).toBe("a");
    expect(nextOf([ex("a", "QUEUED", 1, 0), ex("b", "IN_PROGRESS", 5, 1)])!.jobId).toBe("b");
    expect(nextOf([ex("a", "SUCCEEDED", 1, 0)])).toBeUndefined();
  });
  test("device transitions, versions, step timers", () => {
    const q = ex("a", "QUEUED", 100, 0);
    const p = applyDeviceUpdate(q, { status: "IN_PROGRESS", stepTimeoutInMinutes: 2 }, 101, 101000, 60000) as Execution;
    expect(p).toMatchObject({ status: "IN_PROGRESS", startedAt: 101, versionNumber: 2, stepTimeoutAt: 101000 + 120000 });
    const d = applyDeviceUpdate(p, { status: "SUCCEEDED", expectedVersion: "2" }, 102, 102000, 60000) as Execution;
    expect(d).toMatchObject({ status: "SUCCEEDED", versionNumber: 3, stepTimeoutAt: undefined });
    expect(applyDeviceUpdate(d, { status: "FAILED" }, 103, 0, 60000)).toMatchObject({ code: "InvalidStateTransition" });
    expect(applyDeviceUpdate(q, { status: "TIMED_OUT" }, 103, 0, 60000)).toMatchObject({ code: "InvalidStateTransition" });
    expect(applyDeviceUpdate(q, { status: "IN_PROGRESS", expectedVersion: 3 }, 103, 0, 60000)).toMatchObject({ code: "VersionMismatch", executionState: { status: "QUEUED", versionNumber: 1 } });
    expect(applyDeviceUpdate(q, { status: 5 }, 103, 0, 60000)).toMatchObject({ code: "InvalidRequest" });
    expect(applyDeviceUpdate(q, { status: "IN_PROGRESS", stepTimeoutInMinutes: 10081 }, 103, 0, 60000)).toMatchObject({ code: "InvalidRequest" });
    expect(isJobsFailure(applyDeviceUpdate(q, { status: "REJECTED", statusDetails: { why: "busy" } }, 103, 0, 60000))).toBe(false);
    expect(forceStatus(p, "TIMED_OUT", 200)).toMatchObject({ status: "TIMED_OUT", versionNumber: 3 });
    expect(parseExpectedVersion("x")).toMatchObject({ code: "InvalidRequest" });
  });
  test("start-next uses the job's step timeout unless the request gives one", () => {
    const s = startNext(ex("a", "QUEUED", 1, 0), {}, 2, 2000, 1000, 3) as Execution;
    expect(s).toMatchObject({ status: "IN_PROGRESS", versionNumber: 2, stepTimeoutAt: 5000 });
    expect((startNext(ex("a", "QUEUED", 1, 0), { stepTimeoutInMinutes: -1 }, 2, 2000, 1000, 3) as Execution).stepTimeoutAt).toBeUndefined();
  });
  test("notify body lists only non-empty groups", () => {
    expect(notifyBody([ex("a", "SUCCEEDED", 1, 0)], 9)).toEqual({ timestamp: 9, jobs: {} });
    expect(Object.keys((notifyBody([ex("a", "IN_PROGRESS", 1, 0), ex("b", "QUEUED", 2, 1)], 9) as any).jobs)).toEqual(["IN_PROGRESS", "QUEUED"]);
  });
});
