// The one set of waiting helpers for every suite. Arguments always come in the order
// (what to wait for, a plain-words description, timeout in ms), and a timeout names the description,
// so a failure reads "timed out after 8 s waiting for the second connected event".
//
// A test that must show something did NOT happen waits for a later, positive event that could only
// come after it (a later message, a log line, a counter); it never sleeps and then asserts absence,
// which passes vacuously on a slow machine.
import { EventEmitter } from "events";

export const DEFAULT_WAIT_MS = 15000;
const POLL_MS = 10;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function timedOut(what: string, ms: number, cause?: unknown): Error {
  const seconds = ms >= 1000 ? ms / 1000 + " s" : ms + " ms";
  const why = cause instanceof Error ? ": last check threw " + cause.message : "";
  return new Error("timed out after " + seconds + " waiting for " + what + why);
}

// Polls `cond` until it returns a truthy value and resolves with that value. An exception in `cond`
// counts as "not yet" (and is reported if the wait times out).
export async function until<T>(cond: () => T | Promise<T>, what: string, ms = DEFAULT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw timedOut(what, ms, lastError);
    await sleep(POLL_MS);
  }
}

// Resolves with the arguments of the first `event` on `emitter` for which `match` holds (every event
// by default); the listener and the timer are removed either way, so nothing is left open.
export function waitFor<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  what: string,
  ms = DEFAULT_WAIT_MS,
  match: (...args: A) => boolean = () => true,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: unknown[]) => {
      if (!match(...(args as A))) return;
      done();
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      done();
      reject(timedOut(what, ms));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
    };
    emitter.on(event, onEvent);
  });
}
