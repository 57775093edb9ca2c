// Memory gates of the interpreter suite, in Espruino variables (12 bytes each on an ESP8266; 1600 in
// all), all in one place. Each gate is today's figure on the ESP8266 build plus a margin: enough for
// run-to-run noise (timers, a report or a ping in flight when the reading is taken), small enough
// that a change costing a few dozen variables fails. Figures are the device's own share: the Wifi
// stub's variables (measured in each run) are subtracted. Raise a gate only with the reason in the
// commit message.
export const GATES = {
  // once connected and reporting (the lowest of three console readings, garbage collected).
  // 629: the streaming JSON scanner, the client's streamed PUBLISH slices and out-of-memory
  // watchdog, and the device's own checks of iot.json values cost 64 variables over the 565 before them.
  connected: { baseline: 629, margin: 30 },
  // the highest reading of a sampler (every 25 ms, garbage collected) from power-on to the first
  // connection: the cold presign (28 SHA-256 blocks in JS) and the WebSocket/MQTT connect
  // (766: the same code as above, over 713 before it)
  peakColdPresign: { baseline: 766, margin: 40 },
  // the highest reading while an 8 KB shadow state written by another client is read (also the
  // whole ~20 KB get/accepted after a reconnect) and while a 30 KB job document streams in
  largeDocuments: { baseline: 796, margin: 40 },
};

// Reconnect cycles: usage after the last cycle may exceed usage after the warm-up cycles by at most
// this (a leak of one variable a cycle over the measured cycles exceeds it).
export const RECONNECT = { cycles: 50, warmup: 5, tolerance: 20 };

export function limit(g: { baseline: number; margin: number }): number {
  return g.baseline + g.margin;
}
