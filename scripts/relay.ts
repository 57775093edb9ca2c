// npm run relay -- --listen 0.0.0.0:8883 --allow <host>[,<host>...] [--ca file] [--max-conn N] [--max-per-address N]
//   [--head-timeout ms] [--idle-timeout s]
// Plain WebSocket from the device (ESP8266, no TLS) -> verified TLS to the AWS IoT endpoint. See scripts/relay/relay.ts.
import * as fs from "fs";
import { DEFAULTS, startRelay } from "./relay/relay";

const HELP = `npm run relay -- --allow <endpoint>[,<endpoint>...] [--listen HOST:PORT] [--ca FILE] [--max-conn N]
                    [--head-timeout MS] [--idle-timeout SECONDS]
  Forwards the device's plain WebSocket connection (ws://) over TLS to the host named in its Host header,
  if that host is on the allow-list. The relay holds no credentials; the device signs its own URL.
  --allow         exact hosts (abc123-ats.iot.eu-west-1.amazonaws.com) or suffixes (.iot.eu-west-1.amazonaws.com)
  --listen        address and port to listen on (default ${DEFAULTS.host}:${DEFAULTS.port})
  --ca            PEM file of the CA(s) to trust instead of the system store (private endpoints, tests)
  --max-conn      concurrent connections (default ${DEFAULTS.maxConnections}); when all are taken, the oldest one
                  still waiting for its request head gives way to a new connection
  --max-per-address  concurrent connections from one source address (default ${DEFAULTS.maxPerAddress})
  --head-timeout  ms allowed for the device's request head (default ${DEFAULTS.headTimeoutMs})
  --idle-timeout  seconds without traffic before a connection is closed (default ${DEFAULTS.idleTimeoutMs / 1000}; 0 = never)`;

function fail(msg: string): never {
  console.error("relay: " + msg);
  process.exit(2);
}

function main(): void {
  const argv = process.argv.slice(2);
  let listen = `${DEFAULTS.host}:${DEFAULTS.port}`;
  const allow: string[] = [];
  let ca: string | undefined;
  let maxConnections = DEFAULTS.maxConnections;
  let maxPerAddress = DEFAULTS.maxPerAddress;
  let headTimeoutMs = DEFAULTS.headTimeoutMs;
  let idleTimeoutMs = DEFAULTS.idleTimeoutMs;
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) fail(`${name} needs a whole number >= ${min} (got ${v === undefined ? "nothing" : `"${v}"`})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) fail(`${a} needs a value`);
      return v;
    };
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      return;
    } else if (a === "--listen") listen = next();
    else if (a === "--allow") allow.push(...next().split(","));
    else if (a === "--ca") {
      const f = next();
      try {
        ca = fs.readFileSync(f, "utf8");
      } catch (e) {
        fail(`cannot read the CA file ${f}: ${(e as Error).message}`);
      }
    } else if (a === "--max-conn") maxConnections = num(a, argv[++i], 1);
    else if (a === "--max-per-address") maxPerAddress = num(a, argv[++i], 1);
    else if (a === "--head-timeout") headTimeoutMs = num(a, argv[++i], 100);
    else if (a === "--idle-timeout") idleTimeoutMs = num(a, argv[++i], 0) * 1000;
    else fail(`unknown option "${a}" (try --help)`);
  }
  if (!allow.length) fail("say which endpoints may be reached: --allow <endpoint host> (aws iot describe-endpoint --endpoint-type iot:Data-ATS)");
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  if (!m) fail(`--listen must be HOST:PORT (got "${listen}")`);
  const host = m[1].replace(/^\[|\]$/g, "") || DEFAULTS.host;
  const port = Number(m[2]);
  if (port > 65535) fail(`--listen port ${port} is out of range`);

  let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
  startRelay({ host, port, allow, ca, maxConnections, maxPerAddress, headTimeoutMs, idleTimeoutMs }).then(
    (r) => {
      relay = r;
    },
    (e: Error) => fail(e.message),
  );
  const stop = () => {
    console.log(new Date().toISOString() + " relay stopping");
    (relay ? relay.close() : Promise.resolve()).then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main();
