import { isAllowed, iamPolicyFor } from "../../sim/cloud/policy";
import { checkPublish, checkSubscription, clampKeepAlive, topicMatches } from "../../sim/cloud/broker-rules";

describe("device policy", () => {
  test("connect only as the thing name", () => {
    expect(isAllowed("connect", "lamp", "lamp")).toBe(true);
    expect(isAllowed("connect", "lamp", "lamp2")).toBe(false);
    expect(isAllowed("connect", null, "anything")).toBe(true);
  });
  test("publish / receive / subscribe only under the thing's own prefixes", () => {
    for (const a of ["publish", "receive", "subscribe"] as const) {
      expect(isAllowed(a, "lamp", "$aws/things/lamp/shadow/update")).toBe(true);
      expect(isAllowed(a, "lamp", "devices/lamp/telemetry")).toBe(true);
      expect(isAllowed(a, "lamp", "$aws/things/lamp2/shadow/update")).toBe(false);
      expect(isAllowed(a, "lamp", "devices/lamp2/x")).toBe(false);
      expect(isAllowed(a, "lamp", "$aws/things/lamp")).toBe(false);
    }
    expect(isAllowed("subscribe", "lamp", "$aws/things/lamp/jobs/#")).toBe(true);
    expect(isAllowed("subscribe", "lamp", "$aws/things/+/jobs/notify")).toBe(false);
    expect(isAllowed("subscribe", "lamp", "#")).toBe(false);
  });
  test("the IAM form states the same resources", () => {
    const p: any = iamPolicyFor({ thing: "lamp", region: "eu-west-1", accountId: "111122223333" });
    expect(p.Version).toBe("2012-10-17");
    const byAction = Object.fromEntries(p.Statement.map((s: any) => [s.Action, s.Resource]));
    expect(byAction["iot:Connect"]).toEqual(["arn:aws:iot:eu-west-1:111122223333:client/lamp"]);
    expect(byAction["iot:Publish"]).toEqual(["arn:aws:iot:eu-west-1:111122223333:topic/$aws/things/lamp/*", "arn:aws:iot:eu-west-1:111122223333:topic/devices/lamp/*"]);
    expect(byAction["iot:Subscribe"][0]).toBe("arn:aws:iot:eu-west-1:111122223333:topicfilter/$aws/things/lamp/*");
    expect(byAction["iot:Receive"]).toHaveLength(2);
  });
});

describe("broker rule checks (pure)", () => {
  test("keep-alive clamp", () => {
    expect([0, 1, 29, 30, 600, 1200, 1201].map((k) => clampKeepAlive(k))).toEqual([1200, 30, 30, 30, 600, 1200, 1200]);
  });
  test("publish and subscribe checks", () => {
    expect(checkPublish({ topic: "a/b", qos: 1, payload: Buffer.alloc(10) })).toBeNull();
    expect(checkPublish({ topic: "a/b", qos: 2, payload: "" })).not.toBeNull();
    expect(checkPublish({ topic: "$aws/things/x/shadow/update", qos: 0, retain: true, payload: "" })).not.toBeNull();
    expect(checkPublish({ topic: "a", qos: 0, payload: Buffer.alloc(131073) })).not.toBeNull();
    expect(checkSubscription({ topic: "a/+/#", qos: 1 })).toBeNull();
    expect(checkSubscription({ topic: "a/b", qos: 2 })).not.toBeNull();
  });
  test("topic matching used for direct (jobs) responses", () => {
    expect(topicMatches("$aws/things/t/jobs/+/get/accepted", "$aws/things/t/jobs/$next/get/accepted")).toBe(true);
    expect(topicMatches("#", "$aws/things/t/jobs/get/accepted")).toBe(false);
    expect(topicMatches("$aws/things/t/jobs/#", "$aws/things/t/jobs/get/accepted")).toBe(true);
    expect(topicMatches("a/+", "a/b/c")).toBe(false);
  });
});
