// npm run lab -- <command>: drives a running lab (npm start) through its control API on 127.0.0.1.
// The lab writes its port to .lab-data/lab.json.
import * as http from "http";
import { ArgError, parseArgs, parsePairs } from "../sim/lab/args";
import { readLabFile } from "../sim/lab/files";
import { DEFAULT_DATA_DIR } from "../sim/lab/lab";

const HELP = `npm run lab -- <command>     (talks to the lab started with npm start)
  status                              every device: online, LED, temperature, humidity, btnCount, refresh, version, job
  desired <device> key=value...       set desired state, e.g. desired dev-1 on=true refresh=10 (key=null removes it)
  press <device>                      press the device's button
  sensor <device> on|off              connect / remove its DHT11
  wifi <device> on|off                restore / cut its WiFi
  reboot <device>                     reset the board
  job <device> <operation> [k=v...]   create a job: blink [count=3], reboot, set-config on=true refresh=10
  job --group <group> <operation> [k=v...]
  logs <device>                       the device's last console lines
  --data DIR                          the lab's data directory (default .lab-data)`;

class CliError extends Error {}

function request(port: number, method: string, path: string, body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c) => parts.push(c));
        res.on("end", () => {
          let j: any;
          try {
            j = JSON.parse(Buffer.concat(parts).toString("utf8"));
          } catch {
            return reject(new CliError(`the lab answered HTTP ${res.statusCode} with something that is not JSON`));
          }
          if ((res.statusCode || 500) >= 400) reject(new CliError(j && j.error ? j.error : `HTTP ${res.statusCode}`));
          else resolve(j);
        });
      },
    );
    req.setTimeout(15000, () => req.destroy(new Error("timed out")));
    req.on("error", (e: any) => reject(new CliError(`cannot reach the lab on 127.0.0.1:${port} (${e.code || e.message}): is npm start still running?`)));
    if (data) req.write(data);
    req.end();
  });
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function show(v: unknown): string {
  return v === undefined ? "-" : v === null ? "none" : String(v);
}

function statusTable(state: any): string {
  const lab = state.lab;
  const rows: string[][] = [["device", "online", "wifi", "sensor", "LED", "temp", "hum", "btnCount", "refresh", "version", "job"]];
  for (const d of state.devices) {
    const r = d.reported || {};
    rows.push([
      d.name,
      d.online ? "yes" : "no",
      d.wifi ? "up" : "CUT",
      d.sensor ? "yes" : "REMOVED",
      d.led ? "on" : "off",
      r.sensorError ? "error" : show(r.temperature),
      r.sensorError ? "error" : show(r.humidity),
      show(r.btnCount),
      show(r.refresh) + (d.desired && d.desired.refresh !== undefined && d.desired.refresh !== r.refresh ? ` (desired ${d.desired.refresh})` : ""),
      show(d.version),
      d.job ? `${d.job.operation} ${d.job.status}` : "none",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = `${lab.mode === "local" ? "local stand-in" : "real AWS IoT"} ${lab.endpoint}, group "${lab.group}", ${lab.devices.length} device(s)`;
  return head + "\n" + rows.map((r) => r.map((c, i) => pad(c, w[i])).join("  ")).join("\n");
}

function onOff(v: string | undefined, what: string): boolean {
  if (v === "on") return true;
  if (v === "off") return false;
  throw new CliError(`${what} needs on or off (got ${v === undefined ? "nothing" : `"${v}"`})`);
}

function need(v: string | undefined, what: string): string {
  if (!v) throw new CliError(`say which device: ${what} <device> (npm run lab -- status lists them)`);
  return v;
}

export async function run(argv: string[], out: (s: string) => void = console.log): Promise<void> {
  const { opts, positional } = parseArgs(argv, { group: "string", data: "string", help: "boolean" });
  const [cmd, ...rest] = positional;
  if (opts.help || !cmd || cmd === "help") {
    out(HELP);
    return;
  }
  const found = readLabFile(opts.data ?? DEFAULT_DATA_DIR);
  if (!found.lab) throw new CliError(found.error!);
  const port = found.lab.port;
  const dev = (name: string) => "/api/devices/" + encodeURIComponent(name);
  switch (cmd) {
    case "status": {
      out(statusTable(await request(port, "GET", "/api/state")));
      return;
    }
    case "desired": {
      const name = need(rest[0], "desired");
      if (rest.length < 2) throw new CliError("desired needs key=value pairs, e.g. desired dev-1 on=true refresh=10");
      const body = parsePairs(rest.slice(1), "desired");
      const r = await request(port, "POST", dev(name) + "/desired", body);
      out(`${name}: desired ${JSON.stringify(body)} accepted (shadow version ${show(r.version)})`);
      return;
    }
    case "press": {
      const name = need(rest[0], "press");
      await request(port, "POST", dev(name) + "/press", {});
      out(`${name}: button pressed`);
      return;
    }
    case "sensor": {
      const name = need(rest[0], "sensor");
      const on = onOff(rest[1], "sensor " + name);
      await request(port, "POST", dev(name) + "/sensor", { on });
      out(`${name}: sensor ${on ? "connected" : "removed"}`);
      return;
    }
    case "wifi": {
      const name = need(rest[0], "wifi");
      const on = onOff(rest[1], "wifi " + name);
      await request(port, "POST", dev(name) + "/wifi", { on });
      out(`${name}: WiFi ${on ? "restored" : "cut"}`);
      return;
    }
    case "reboot": {
      const name = need(rest[0], "reboot");
      await request(port, "POST", dev(name) + "/reboot", {});
      out(`${name}: rebooted`);
      return;
    }
    case "job": {
      let target: Record<string, string>;
      let args = rest;
      if (opts.group !== undefined) target = { group: opts.group };
      else {
        target = { device: need(rest[0], "job") };
        args = rest.slice(1);
      }
      const operation = args[0];
      if (!operation) throw new CliError("job needs an operation: blink, reboot or set-config");
      const params = parsePairs(args.slice(1), "job " + operation);
      const r = await request(port, "POST", "/api/jobs", { ...target, operation, params });
      out(`job ${r.jobId} created for ${r.targets.join(", ")}${target.group ? " (thing group)" : ""}`);
      return;
    }
    case "logs": {
      const name = need(rest[0], "logs");
      const s = await request(port, "GET", "/api/state");
      const d = s.devices.find((x: any) => x.name === name);
      if (!d) throw new CliError(`no device named "${name}" (devices: ${s.devices.map((x: any) => x.name).join(", ")})`);
      out(d.logs.join("\n"));
      return;
    }
    default:
      throw new CliError(`unknown command "${cmd}" (npm run lab -- help)`);
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).catch((e) => {
    console.error("lab: " + (e instanceof CliError || e instanceof ArgError ? e.message : e && e.stack ? e.stack : e));
    process.exit(e instanceof CliError || e instanceof ArgError ? 2 : 1);
  });
}
