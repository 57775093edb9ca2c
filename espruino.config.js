// How `npm run flash` and `npm run configure` reach your board. Every field can be overridden on the
// command line (--board, --port, --baud, --env), and board/port also by ESPRUINO_BOARD / ESPRUINO_PORT.
module.exports = {
  // "ESP8266_4MB" (NodeMCU, Wemos D1 mini: no TLS, goes through `npm run relay`) or "ESP32" (wss:// direct).
  // Board descriptions live in boards/<board>.json, so the Espruino CLI never downloads anything.
  board: process.env.ESPRUINO_BOARD || "ESP8266_4MB",
  // Serial port: /dev/ttyUSB0 (CH340/CP2102 on Linux), /dev/tty.usbserial-XXXX or /dev/cu.SLAB_USBtoUART (macOS),
  // COM3 (Windows). `tcp://192.168.1.50:23` uploads over the board's telnet console (no pretokenising then).
  port: process.env.ESPRUINO_PORT || "/dev/ttyUSB0",
  baud: 115200,
  // Where the device configuration (WiFi, endpoint, keys) comes from: this git-ignored file, then the
  // environment (a variable set in the shell wins). See .env.example for the names.
  envFile: ".env",
  // Pretokenise the code (smaller and faster on the device). Only ever done over a serial port:
  // the TCP transport corrupts bytes >= 0x80.
  pretokenise: true,
};
