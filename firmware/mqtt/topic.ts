// MQTT topic names and filters: pure functions.
import { mqtt as mqttSay } from "./codec";

// True when `topic` matches `filter` ("+" one level, "#" this level and all below; a topic starting
// with "$" is not matched by a filter starting with a wildcard). The check is in codec.ts
// (mqtt(filter, topic)), which the session uses for every incoming PUBLISH.
export function topicMatch(filter: string, topic: string): boolean {
  return mqttSay(filter, topic);
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
