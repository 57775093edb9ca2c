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

// "" when `s` is a valid topic filter (filter true) or topic name for PUBLISH (filter false),
// otherwise the reason in plain words. One function for both (the device keeps one function object).
export function topicCheck(s: string, filter: boolean): string {
  const w = filter ? "topic filter" : "topic";
  if (!s.length) return w + " is empty";
  if (s.length > 65535) return w + " is too long";
  if (!filter) return s.indexOf("+") >= 0 || s.indexOf("#") >= 0 ? "topic may not contain wildcards: " + s : "";
  const fl = s.split("/");
  for (let i = 0; i < fl.length; i++) {
    const l = fl[i];
    if (l.indexOf("#") >= 0 && (l != "#" || i != fl.length - 1)) return "'#' must be the last level on its own in " + s;
    if (l.indexOf("+") >= 0 && l != "+") return "'+' must fill a whole level in " + s;
  }
  return "";
}
export function filterProblem(filter: string): string {
  return topicCheck(filter, true);
}
export function topicProblem(topic: string): string {
  return topicCheck(topic, false);
}
