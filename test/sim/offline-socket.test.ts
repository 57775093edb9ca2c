// A socket opened while WiFi is down must survive a write made before its simulated failure: Espruino
// buffers writes to a socket that is still connecting (firmware/ws/socket.ts sends the upgrade right
// after connect()), and an unhandled Node error there would kill the host process.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDevice } from "../../sim/board";

test("a socket opened while WiFi is down survives a write before its failure (it has an error listener)", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sim-offline-"));
  fs.writeFileSync(path.join(tmp, "fw.js"), "var idle = 1;\n");
  const d = await startDevice({ board: "esp8266", storageDir: path.join(tmp, "dev"), bundlePath: path.join(tmp, "fw.js"), name: "offline" });
  try {
    // WiFi is not connected: connect() gives the stand-in socket, then the write (all synchronous)
    d.eval('var s = require("net").connect({host: "127.0.0.1", port: 9}); s.on("error", function () {}); s.write("GET / HTTP/1.1\\r\\n\\r\\n");');
    const socks: Map<number, any> = (d as any).boot.net.socks;
    const listeners = [...socks.values()].map((r) => r.sock.listenerCount("error"));
    expect(listeners.length).toBe(1);
    expect(listeners[0]).toBeGreaterThan(0);
  } finally {
    await d.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
