// Bundles firmware/main.ts into dist/firmware.js for the Espruino interpreter.
import * as esbuild from "esbuild";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

export const ESPRUINO_BUILTINS = ["Wifi", "Storage", "net", "tls", "crypto", "ESP8266", "ESP32", "TelnetServer", "http"];

async function main(): Promise<void> {
  const t0 = Date.now();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ["firmware/main.ts"],
    outfile: "dist/firmware.js",
    bundle: true,
    // cjs + our own IIFE wrapper: esbuild's iife format wraps external require() calls in a
    // __require helper built on Proxy, which Espruino lacks; cjs leaves require("Storage") as is.
    format: "cjs",
    platform: "node",
    banner: { js: "(function(){" },
    footer: { js: "})();" },
    target: "es2015",
    charset: "ascii",
    minify: true,
    sourcemap: "external",
    metafile: true,
    legalComments: "none",
    external: ESPRUINO_BUILTINS,
    logLevel: "info",
    supported: {
      destructuring: false,
      "default-argument": false,
      "rest-argument": false,
      "async-await": false,
      "async-generator": false,
      generator: false,
      "for-await": false,
    },
  });
  console.log(`built dist/firmware.js in ${Date.now() - t0} ms`, Object.keys(result.metafile.outputs));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
