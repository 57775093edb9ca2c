// The lab's web view and control API, on 127.0.0.1 only (no authentication: anyone who can reach it can
// drive the simulated devices).
//   GET  /                      the web view (sim/lab/web: index.html, app.js, style.css)
//   GET  /api/state             {lab, devices}
//   GET  /api/events            Server-Sent Events: "state" (everything, on connect), "device" (one device changed)
//   POST /api/devices/:name/desired   {"on": true, "refresh": 10}
//   POST /api/devices/:name/press
//   POST /api/devices/:name/sensor    {"on": false}
//   POST /api/devices/:name/wifi      {"on": false}
//   POST /api/devices/:name/reboot
//   POST /api/jobs              {"device": "dev-1" | "group": "sensors", "operation": "blink", "params": {"count": 3}}
// Errors: {"error": "plain words"} with 400 (bad input), 404 (no such device/route) or 500.
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { Lab, LabError } from "./lab";

const WEB_DIR = path.join(__dirname, "web");
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };
const STATIC = ["index.html", "app.js", "style.css"];
const MAX_BODY = 16 * 1024;

export interface LabServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(s) });
  res.end(s);
}

function readBody(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new LabError("request body over 16 KB"));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8").trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new LabError("the request body is not valid JSON"));
      }
    });
    req.on("error", reject);
  });
}

function onOff(body: any, what: string): boolean {
  if (!body || typeof body.on !== "boolean") throw new LabError(`${what} needs {"on": true} or {"on": false}`);
  return body.on;
}

export async function startLabServer(lab: Lab, opts: { port?: number; host?: string } = {}): Promise<LabServer> {
  const host = opts.host ?? "127.0.0.1";
  const clients = new Set<http.ServerResponse>();
  const page = new Map<string, Buffer>();
  for (const f of STATIC) page.set(f, fs.readFileSync(path.join(WEB_DIR, f)));

  const sse = (res: http.ServerResponse, ev: string, data: unknown) => {
    res.write("event: " + ev + "\ndata: " + JSON.stringify(data) + "\n\n");
  };
  const onDevice = (v: unknown) => {
    for (const c of clients) sse(c, "device", v);
  };
  lab.on("device", onDevice);
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(": ping\n\n");
  }, 15000);

  const api = async (req: http.IncomingMessage, res: http.ServerResponse, parts: string[]) => {
    const m = req.method || "GET";
    if (parts[1] === "state" && parts.length === 2 && m === "GET") return send(res, 200, { lab: lab.info, devices: lab.views() });
    if (parts[1] === "events" && parts.length === 2 && m === "GET") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
      res.write("retry: 1000\n\n");
      sse(res, "state", { lab: lab.info, devices: lab.views() });
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    if (m !== "POST") throw new LabError("not found: " + m + " " + req.url, 404);
    const body = await readBody(req);
    if (parts[1] === "jobs" && parts.length === 2) {
      if (!body || typeof body.operation !== "string") throw new LabError('a job needs {"operation": "blink" | "reboot" | "set-config"}');
      const target = typeof body.group === "string" ? { group: body.group } : { device: typeof body.device === "string" ? body.device : undefined };
      const params = body.params && typeof body.params === "object" ? body.params : {};
      return send(res, 200, await lab.job(target, body.operation, params));
    }
    if (parts[1] === "devices" && parts.length === 4) {
      const name = decodeURIComponent(parts[2]);
      switch (parts[3]) {
        case "desired":
          return send(res, 200, await lab.desired(name, body && typeof body === "object" && !Array.isArray(body) ? body : {}));
        case "press":
          await lab.press(name);
          return send(res, 200, { ok: true });
        case "sensor":
          lab.sensor(name, onOff(body, "sensor"));
          return send(res, 200, { ok: true });
        case "wifi":
          lab.wifi(name, onOff(body, "wifi"));
          return send(res, 200, { ok: true });
        case "reboot":
          await lab.reboot(name);
          return send(res, 200, { ok: true });
      }
    }
    throw new LabError("not found: " + m + " " + req.url, 404);
  };

  const server = http.createServer((req, res) => {
    const url = (req.url || "/").split("?")[0];
    const parts = url.split("/").filter(Boolean);
    if (parts[0] === "api") {
      api(req, res, parts).catch((e: any) => {
        if (res.headersSent) return res.end();
        send(res, e instanceof LabError ? e.status : 500, { error: e && e.message ? e.message : String(e) });
      });
      return;
    }
    if (url === "/favicon.ico") {
      res.writeHead(204);
      res.end();
      return;
    }
    const file = url === "/" ? "index.html" : parts.length === 1 ? parts[0] : "";
    const data = page.get(file);
    if (!data || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)],
      "Cache-Control": "no-store",
      // the page loads nothing from anywhere else
      "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
    });
    res.end(req.method === "HEAD" ? undefined : data);
  });
  server.on("clientError", (_e, sock: net.Socket) => sock.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
  return {
    port,
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        lab.off("device", onDevice);
        for (const c of clients) c.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
