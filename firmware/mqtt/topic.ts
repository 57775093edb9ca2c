// MQTT topic names and filters: pure functions.

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

// "" when the filter is valid, otherwise the reason in plain words.
export function filterProblem(filter: string): string {
  if (!filter.length) return "topic filter is empty";
  if (filter.length > 65535) return "topic filter is too long";
  const fl = filter.split("/");
  for (let i = 0; i < fl.length; i++) {
    const l = fl[i];
    if (l.indexOf("#") >= 0 && (l != "#" || i != fl.length - 1)) return "'#' must be the last level on its own in " + filter;
    if (l.indexOf("+") >= 0 && l != "+") return "'+' must fill a whole level in " + filter;
  }
  return "";
}

// "" when the topic name is valid for PUBLISH, otherwise the reason in plain words.
export function topicProblem(topic: string): string {
  if (!topic.length) return "topic is empty";
  if (topic.length > 65535) return "topic is too long";
  if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) return "topic may not contain wildcards: " + topic;
  return "";
}
