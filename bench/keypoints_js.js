/*
 * Node side of bench/keypoints_js.py: ss-kp-1 of each grey working copy with OpenCV.js and
 * static/survivor/hashing/keypoints.js, compared with the records Python wrote.
 * Usage: node bench/keypoints_js.js OPENCV_JS DIR KEYPOINTS_JS   (prints one JSON line a photo)
 */
'use strict';
const fs = require('fs');
const path = require('path');
const [, , cvPath, dir, kpPath] = process.argv;
// OpenCV.js as `make opencv-js` installs it reads opencv.wasm beside it; Node's fetch cannot
// read a file path, so it takes the file-reading path instead.
globalThis.fetch = undefined;
let cv = require(path.resolve(cvPath));
require(path.resolve(kpPath));
const K = globalThis.StopSpreadKeypoints;

function bits(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i] ^ b[i]; x; x >>= 1) n += x & 1;
  return n;
}

async function main() {
  if (cv instanceof Promise) cv = await cv;
  else if (!cv.Mat) await new Promise((resolve) => { cv.onRuntimeInitialized = resolve; });
  const photos = JSON.parse(fs.readFileSync(path.join(dir, 'photos.json')));
  photos.forEach((p, i) => {
    const grey = { data: new Uint8Array(fs.readFileSync(path.join(dir, `${i}.grey`))), width: p.width, height: p.height };
    const t0 = process.hrtime.bigint();
    const js = Buffer.from(K.toBytes(K.fromGrey(cv, grey, 400)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const py = Buffer.from(p.record, 'hex');
    let sameRecords = 0, descriptorBits = 0;
    const n = Math.min(js.length, py.length);
    for (let o = 7; o + 34 <= n; o += 34) {
      if (js.subarray(o, o + 34).equals(py.subarray(o, o + 34))) sameRecords++;
      descriptorBits += bits(js.subarray(o + 2, o + 34), py.subarray(o + 2, o + 34));
    }
    console.log(JSON.stringify({ name: p.name, identical: js.equals(py), points: [(js.length - 7) / 34, (py.length - 7) / 34],
      sameRecords, descriptorBits, ms, js: js.toString('hex') }));
  });
}
main().catch((e) => { console.error(e); process.exit(1); });
