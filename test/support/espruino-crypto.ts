// Node's crypto module plus Espruino's crypto.SHA1 (binary string in, ArrayBuffer out), for suites
// that run device code importing require("crypto"):
//   jest.mock("crypto", () => require("../support/espruino-crypto").espruinoCrypto());
export function espruinoCrypto(): any {
  const real = jest.requireActual("crypto");
  const SHA1 = (s: string) => {
    const b = real.createHash("sha1").update(Buffer.from(s, "latin1")).digest();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  };
  return { ...real, SHA1 };
}
