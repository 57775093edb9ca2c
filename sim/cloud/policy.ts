/**
 * Authorization policy of the stand-in, kept as IAM-style statements so it can be compared with an IAM policy
 * JSON (`iamPolicyFor`). `isAllowed` evaluates exactly these statements: agreement by construction.
 *
 * Device credentials (bound to one thing): connect only as client id = thing name; publish/receive on
 * `$aws/things/{thing}/...` and `devices/{thing}/...`; subscribe to filters under those prefixes.
 * Admin credentials (thing = null): everything.
 */
export type PolicyAction = "connect" | "publish" | "subscribe" | "receive";

export const IAM_ACTION: Record<PolicyAction, string> = {
  connect: "iot:Connect",
  publish: "iot:Publish",
  subscribe: "iot:Subscribe",
  receive: "iot:Receive",
};

/** Resource kind per action, as in IAM ARNs (`arn:aws:iot:<region>:<account>:<kind>/<name>`). */
export const RESOURCE_KIND: Record<PolicyAction, string> = {
  connect: "client",
  publish: "topic",
  subscribe: "topicfilter",
  receive: "topic",
};

/** Resource templates per action; `${thing}` is the thing name the credential belongs to. `*` matches anything. */
export const DEVICE_POLICY: Record<PolicyAction, string[]> = {
  connect: ["${thing}"],
  publish: ["$aws/things/${thing}/*", "devices/${thing}/*"],
  receive: ["$aws/things/${thing}/*", "devices/${thing}/*"],
  subscribe: ["$aws/things/${thing}/*", "devices/${thing}/*"],
};

function globMatch(pattern: string, value: string): boolean {
  // IAM glob: '*' any sequence (including '/'), '?' one character; everything else literal.
  let p = 0, v = 0, star = -1, mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === value[v])) { p++; v++; }
    else if (p < pattern.length && pattern[p] === "*") { star = p++; mark = v; }
    else if (star >= 0) { p = star + 1; v = ++mark; }
    else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Whether a credential may do `action` on `resource` (client id, topic or topic filter).
 * `thing` is the credential's thing name, or null for the admin credential (allowed everything).
 * Note: thing names never contain '*' or '?' (validated), so substitution is safe.
 */
export function isAllowed(action: PolicyAction, thing: string | null, resource: string): boolean {
  if (thing === null) return true;
  const list = DEVICE_POLICY[action];
  for (let i = 0; i < list.length; i++) {
    if (globMatch(list[i].split("${thing}").join(thing), resource)) return true;
  }
  return false;
}

/** The device policy as an IAM policy JSON for one thing (or with the `${iot:ClientId}` variable when thing is omitted). */
export function iamPolicyFor(opts: { thing?: string; region?: string; accountId?: string } = {}): object {
  const region = opts.region || "us-east-1";
  const account = opts.accountId || "123456789012";
  const name = opts.thing || "${iot:ClientId}";
  const actions = Object.keys(DEVICE_POLICY) as PolicyAction[];
  return {
    Version: "2012-10-17",
    Statement: actions.map((a) => ({
      Effect: "Allow",
      Action: IAM_ACTION[a],
      Resource: DEVICE_POLICY[a].map((t) => "arn:aws:iot:" + region + ":" + account + ":" + RESOURCE_KIND[a] + "/" + t.split("${thing}").join(name)),
    })),
  };
}
