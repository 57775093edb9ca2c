import { filterProblem, topicMatch, topicProblem } from "../../firmware/mqtt/topic";

test("topic filter matching with + and #", () => {
  const yes: [string, string][] = [["a/b", "a/b"], ["a/+", "a/b"], ["+/b", "a/b"], ["a/#", "a/b/c"], ["a/#", "a"], ["#", "a/b"], ["+/+", "a/"], ["+", ""], ["a/+/c", "a/x/c"],
    ["$aws/things/+/shadow/#", "$aws/things/t1/shadow/update/delta"], ["/+", "/x"]];
  const no: [string, string][] = [["a/b", "a/c"], ["a/+", "a/b/c"], ["a/+", "a"], ["+", "a/b"], ["#", "$aws/x"], ["+/x", "$SYS/x"], ["a/b/#", "a/c"], ["a", "a/b"]];
  for (const [f, t] of yes) expect([f, t, topicMatch(f, t)]).toEqual([f, t, true]);
  for (const [f, t] of no) expect([f, t, topicMatch(f, t)]).toEqual([f, t, false]);
});

test("filter and topic validation in plain words", () => {
  expect(filterProblem("a/#")).toBe("");
  expect(filterProblem("+/+/#")).toBe("");
  expect(filterProblem("")).toBe('bad topic filter ""');
  expect(filterProblem("a/#/b")).toBe('bad topic filter "a/#/b"');
  expect(filterProblem("a#")).toBe('bad topic filter "a#"');
  expect(filterProblem("#/")).toBe('bad topic filter "#/"');
  expect(filterProblem("a/b+")).toBe('bad topic filter "a/b+"');
  expect(filterProblem("a/\x00")).toBe('bad topic filter "a/\x00"');
  expect(topicProblem("a/b")).toBe("");
  expect(topicProblem("$aws/things/t/shadow/update")).toBe("");
  expect(topicProblem("a/#")).toBe('bad topic "a/#"');
  expect(topicProblem("a+")).toBe('bad topic "a+"');
  expect(topicProblem("")).toBe('bad topic ""');
});
