// Preloaded (node --require) into the Espruino CLI for offline runs (-n): any attempt to resolve a
// name or open a network connection fails loudly, so a dry run provably sends nothing anywhere.
"use strict";
const net = require("net");
const dns = require("dns");
function refuse(what) {
  const msg = "offline guard: the Espruino CLI tried to " + what + " during an offline run";
  process.stderr.write(msg + "\n");
  process.exit(97);
}
net.Socket.prototype.connect = function () { refuse("open a network connection"); };
net.connect = net.createConnection = function () { refuse("open a network connection"); };
dns.lookup = function () { refuse("resolve a host name"); };
dns.resolve = function () { refuse("resolve a host name"); };
if (typeof globalThis.fetch === "function") globalThis.fetch = function () { refuse("fetch a URL"); };
for (const mod of ["http", "https"]) {
  const m = require(mod);
  m.request = m.get = function () { refuse("make an " + mod.toUpperCase() + " request"); };
}
