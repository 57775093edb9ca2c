// One short line per event that matters, with a level letter, sized for a serial console.
// Never pass secrets (keys, tokens, passwords, signed URLs) to these functions.
export function logInfo(msg: string): void {
  console.log("[I] " + msg);
}
export function logWarn(msg: string): void {
  console.log("[W] " + msg);
}
export function logError(msg: string): void {
  console.log("[E] " + msg);
}
