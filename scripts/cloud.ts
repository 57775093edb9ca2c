/**
 * `npm run cloud` - starts the local AWS IoT Core stand-in and prints its endpoint and local credentials.
 *
 *   npm run cloud -- [--port 8090] [--https-port 8443] [--mqtt-port 11883|off] [--host 127.0.0.1]
 *                    [--data-dir .cloud-data] [--region us-east-1] [--thing NAME ...] [--shuffle]
 *                    [--clock-skew 300] [--max-connection-seconds 86400] [--verbose]
 *
 * The credentials are generated into <data-dir>/config.json on first run. They are local stand-in credentials
 * (worthless against AWS); the data directory is git-ignored - never commit it.
 */
import * as path from "node:path";
import { startCloud, presignIotUrl } from "../sim/cloud";
import type { CloudOptions } from "../sim/cloud";

function usage(msg?: string): never {
  if (msg) console.error("error: " + msg + "\n");
  console.error("usage: npm run cloud -- [--port N] [--https-port N|off] [--mqtt-port N|off] [--host ADDR] [--data-dir DIR]\n" +
    "                        [--region R] [--thing NAME]... [--shuffle] [--no-delta-on-reported]\n" +
    "                        [--clock-skew SECONDS] [--max-connection-seconds SECONDS] [--verbose]");
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv: string[]) {
  const o: { port: number; httpsPort?: number; mqttPort?: number; host: string; dataDir: string; region: string; things: string[]; shuffle: boolean; deltaOnReported: boolean; skew?: number; maxConn?: number; verbose: boolean } =
    { port: 8090, mqttPort: 11883, host: "127.0.0.1", dataDir: ".cloud-data", region: "us-east-1", things: [], shuffle: false, deltaOnReported: true, verbose: false };
  const num = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) usage(flag + " needs a whole number, got " + (v === undefined ? "nothing" : JSON.stringify(v)));
    if (flag.includes("port") && +v > 65535) usage(flag + " must be a port number 0..65535 (0 = any free port), got " + v);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case "--port": o.port = num(a, v); i++; break;
      case "--https-port": o.httpsPort = v === "off" ? undefined : num(a, v); i++; break;
      case "--mqtt-port": o.mqttPort = v === "off" ? undefined : num(a, v); i++; break;
      case "--host": if (!v) usage("--host needs an address"); o.host = v; i++; break;
      case "--data-dir": if (!v) usage("--data-dir needs a directory"); o.dataDir = v; i++; break;
      case "--region": if (!v) usage("--region needs a region name"); o.region = v; i++; break;
      case "--thing": if (!v) usage("--thing needs a thing name"); o.things.push(v); i++; break;
      case "--shuffle": o.shuffle = true; break;
      case "--no-delta-on-reported": o.deltaOnReported = false; break;
      case "--clock-skew": o.skew = num(a, v); i++; break;
      case "--max-connection-seconds": o.maxConn = num(a, v); i++; break;
      case "--verbose": case "-v": o.verbose = true; break;
      case "--help": case "-h": usage();
      default: usage("unknown option " + a);
    }
  }
  return o;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const opts: CloudOptions = {
    dataDir: path.resolve(a.dataDir), host: a.host, port: a.port, httpsPort: a.httpsPort, mqttPort: a.mqttPort, region: a.region,
    things: a.things, shuffleShadowResponses: a.shuffle, deltaOnReportedOnly: a.deltaOnReported, clockSkewSeconds: a.skew, maxConnectionSeconds: a.maxConn,
  };
  const cloud = await startCloud(opts);
  const out = (s: string) => process.stdout.write(s + "\n");
  out("AWS IoT Core stand-in (local) - data in " + opts.dataDir);
  out("  endpoint (sign this Host) " + cloud.endpoint);
  out("  MQTT over WebSocket       " + cloud.wsUrl + "  (SigV4 presigned, service iotdevicegateway, region " + cloud.region + ")");
  if (cloud.httpsPort) out("  MQTT over WSS / HTTPS     wss://" + cloud.endpoint.split(":")[0] + ":" + cloud.httpsPort + "/mqtt  (trust " + path.join(opts.dataDir, "tls", "server-cert.pem") + ")");
  if (cloud.mqttPort) out("  plain MQTT (tools)        mqtt://" + cloud.endpoint.split(":")[0] + ":" + cloud.mqttPort + "  (username = access key id, password = secret)");
  out("  HTTP API (AWS SDK/CLI)    http://" + cloud.endpoint + "  (iot-data and iot control plane)");
  out("");
  out("Local stand-in credentials (not AWS credentials; stored in " + path.join(opts.dataDir, "config.json") + "):");
  out("  admin          AWS_ACCESS_KEY_ID=" + cloud.admin.accessKeyId + " AWS_SECRET_ACCESS_KEY=" + cloud.admin.secretAccessKey);
  for (const t of a.things) {
    const c = await cloud.createThing(t);
    out("  thing " + t.padEnd(8) + " AWS_ACCESS_KEY_ID=" + c.accessKeyId + " AWS_SECRET_ACCESS_KEY=" + c.secretAccessKey);
  }
  out("");
  out("Try: AWS_ACCESS_KEY_ID=" + cloud.admin.accessKeyId + " AWS_SECRET_ACCESS_KEY=... AWS_REGION=" + cloud.region + " \\");
  out("       aws --endpoint-url http://" + cloud.endpoint + " iot-data get-thing-shadow --thing-name <thing> /dev/stdout");
  out("Sample presigned URL for the admin (valid 5 minutes from now):");
  out("  " + presignIotUrl({ host: cloud.endpoint, region: cloud.region, accessKeyId: cloud.admin.accessKeyId, secretAccessKey: cloud.admin.secretAccessKey }));
  cloud.on("connect", (id: string, info: any) => out(new Date().toISOString() + " connect    " + id + " (" + info.transport + (info.thing ? ", thing " + info.thing : ", admin") + ")"));
  cloud.on("disconnect", (id: string, reason: string) => out(new Date().toISOString() + " disconnect " + id + " (" + reason + ")"));
  cloud.on("denied", (d: any) => out(new Date().toISOString() + " DENIED     " + (d.clientId || "-") + " " + d.action + " " + (d.resource || "") + ": " + d.reason));
  if (a.verbose) {
    cloud.on("log", (l: string) => out(new Date().toISOString() + " " + l));
    cloud.on("publish", (topic: string, payload: Buffer, id: string) => out(new Date().toISOString() + " publish    " + id + " " + topic + " (" + payload.length + " bytes)"));
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    out("stopping (state saved in " + opts.dataDir + ")");
    await cloud.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error("cloud stand-in failed to start: " + (e && e.code === "EADDRINUSE" ? "port already in use (" + e.message + "); pick another with --port" : e && e.message || e));
  process.exit(1);
});
