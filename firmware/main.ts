// Entry point of the bundle. For now: a boot line and a heartbeat blink, so the
// build pipeline and the simulator have something real to run.
const LED_PIN = D2;

let ledOn = false;
console.log("[I] boot espruino-aws-iot");
setInterval(() => {
  ledOn = !ledOn;
  digitalWrite(LED_PIN, ledOn);
}, 500);
