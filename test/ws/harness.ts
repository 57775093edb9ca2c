// Test harness for the device's WebSocket frame decoder (firmware/ws/frame.ts): the decoder keeps its
// state on the link and talks to it; here a plain object stands in for an open link and records
// what the decoder did, as (op, data) pairs:
//   (2, piece)   a piece of message payload passed on (binary and continuation frames alike);
//   (9, payload) a ping answered (a pong with this payload was written);
//   (8, code)    a close echoed (a close frame with these 0 or 2 bytes was written).
// Pongs are ignored by the decoder and leave no trace.
import { wsFrame } from "../../firmware/ws/frame";

export const BIN = 2;
export const CLOSE = 8;
export const PING = 9;
export const PONG = 10;

export interface Decoder {
  l: any; // the decoder's state (l.b: bytes held, l.n: payload still to come, l.h: inside a fragmented message)
  feed(chunk: string): string; // "" or why the link must close
}

export function wsDecoder(on: (op: number, data: string) => void): Decoder {
  const l: any = {
    t: 3,
    b: "",
    h: 0,
    s: { onData: (_l: any, d: string) => on(BIN, d) },
    write: (p: string, op: number) => on(op == PONG ? PING : op, p),
  };
  return {
    l,
    feed: (c: string) => {
      const e = wsFrame(l, c);
      return e ? e.text : "";
    },
  };
}

// Uint8Array -> binary string.
export const u8ToStr = (u: Uint8Array): string => Buffer.from(u).toString("latin1");
