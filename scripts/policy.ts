// npm run policy -- --thing NAME [--region R] [--account ID] [--client-id ID]
// Prints the least-privilege IAM policy for the device's own IAM user (SigV4 over WebSockets):
// connect only as its client id; publish/receive only on its own thing topics and its events topics;
// subscribe only to filters under those. JSON on stdout (pipe it to a file), notes on stderr.
//
// No policy variables: ${iot:Connection.Thing.ThingName} needs a thing attached to a certificate principal,
// which an IAM user is not, so the thing name is written out. Thing names ([a-zA-Z0-9:_-]) cannot contain
// "*", "?" or "${", so they are safe in resource ARNs; the literal "$aws" is not a variable (only "${" is).
// Resources: client/<clientId> for iot:Connect, topic/<topic> for iot:Publish and iot:Receive,
// topicfilter/<filter> for iot:Subscribe (MQTT wildcards in a filter are literal characters there, so a
// subscription to $aws/things/+/... does not match $aws/things/NAME/*).

export interface PolicyOptions {
  thing: string;
  region?: string; // default "*"
  account?: string; // default "*"
  clientId?: string; // default: the thing name
}

export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;

export function policyErrors(o: PolicyOptions): string[] {
  const e: string[] = [];
  if (!o.thing) e.push("--thing NAME is required");
  else if (!THING_NAME.test(o.thing)) e.push(`--thing "${o.thing}": a thing name is 1-128 letters, digits, ':', '_' or '-'`);
  if (o.clientId !== undefined && !/^[a-zA-Z0-9:_-]{1,128}$/.test(o.clientId)) e.push(`--client-id "${o.clientId}": use 1-128 letters, digits, ':', '_' or '-'`);
  if (o.region !== undefined && o.region !== "*" && !REGION.test(o.region)) e.push(`--region "${o.region}" is not a region name such as eu-west-1`);
  if (o.account !== undefined && o.account !== "*" && !ACCOUNT.test(o.account)) e.push(`--account "${o.account}" is not a 12-digit account id`);
  return e;
}

export function devicePolicy(o: PolicyOptions): {
  Version: string;
  Statement: Array<{ Sid: string; Effect: "Allow"; Action: string | string[]; Resource: string | string[] }>;
} {
  const errors = policyErrors(o);
  if (errors.length) throw new Error(errors.join("; "));
  const arn = (kind: string, name: string) => `arn:aws:iot:${o.region || "*"}:${o.account || "*"}:${kind}/${name}`;
  const prefixes = [`$aws/things/${o.thing}/`, `devices/${o.thing}/`];
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ConnectAsItself", Effect: "Allow", Action: "iot:Connect", Resource: arn("client", o.clientId || o.thing) },
      { Sid: "OwnTopics", Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: prefixes.map((p) => arn("topic", p + "*")) },
      { Sid: "OwnTopicFilters", Effect: "Allow", Action: "iot:Subscribe", Resource: prefixes.map((p) => arn("topicfilter", p + "*")) },
    ],
  };
}

function main(argv: string[]): number {
  const o: PolicyOptions = { thing: "" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const take = (): string => {
      if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
      i++;
      return v;
    };
    try {
      if (a === "--thing") o.thing = take();
      else if (a === "--region") o.region = take();
      else if (a === "--account") o.account = take();
      else if (a === "--client-id") o.clientId = take();
      else if (a === "--help" || a === "-h") {
        console.log("npm run policy -- --thing NAME [--region R] [--account 123456789012] [--client-id ID]");
        return 0;
      } else throw new Error(`unknown option "${a}"`);
    } catch (e) {
      console.error("policy: " + (e as Error).message);
      return 2;
    }
  }
  if (o.region === undefined && process.env.IOT_REGION) o.region = process.env.IOT_REGION;
  const errors = policyErrors(o);
  if (errors.length) {
    errors.forEach((e) => console.error("policy: " + e));
    console.error("usage: npm run policy -- --thing NAME [--region R] [--account 123456789012] [--client-id ID]");
    return 2;
  }
  if (!o.region) console.error("policy: note: no --region, so the ARNs say * for the region");
  if (!o.account) console.error("policy: note: no --account, so the ARNs say * for the account (aws sts get-caller-identity --query Account --output text)");
  console.log(JSON.stringify(devicePolicy(o), null, 2));
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
