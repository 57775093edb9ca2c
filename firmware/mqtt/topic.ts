// MQTT topic names and filters: pure functions.
import { mqtt as mqttSay } from "./codec";

// True when `topic` matches `filter` ("+" one level, "#" this level and all below; a topic
// starting with "$" is not matched by a filter starting with a wildcard).
export function topicMatch(filter: string, topic: string): boolean {
  const c = filter.charAt(0);
  if (topic.charAt(0) == "$" && (c == "+" || c == "#")) return false;
  const fl = filter.split("/");
  const tl = topic.split("/");
  for (let i = 0; i < fl.length; i++) {
    if (fl[i] == "#") return true;
    if (i >= tl.length || (fl[i] != "+" && fl[i] != tl[i])) return false;
  }
  return fl.length == tl.length;
}

// "" when the filter is valid / the topic name is valid for PUBLISH, otherwise the reason in plain
// words. The check itself is in codec.ts (mqtt(topic, isFilter)), one function object for all words
// on the device.
export function filterProblem(filter: string): string {
  return mqttSay(filter, true);
}
export function topicProblem(topic: string): string {
  return mqttSay(topic, false);
}
