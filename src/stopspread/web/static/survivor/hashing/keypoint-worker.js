/*
 * The keypoint worker: OpenCV.js (about 11 MB) and keypoints.js, for ss-kp-1. Started by the
 * hashing worker (a nested worker) for a survivor's enrolment only, so that ORB runs beside
 * the PDQ signal set (another thread, another core) and OpenCV.js loads and compiles while
 * she is still choosing photos. Nothing here talks to the network but the one script.
 * Messages: {id, op: 'warm'} -> {ready, timings} | {ready: false, error};
 * {id, op: 'extract', rgba (ArrayBuffer, transferred), width, height, channels} ->
 * {version, data (base64), timings} | {error}. Timings are milliseconds per stage.
 */
/* global importScripts, StopSpreadKeypoints */
'use strict';

var OPENCV_URL = 'opencv/opencv.js'; // installed from npm by `make opencv-js`, not in git
var openCvReady = null;
var openCvTimings = {}; // how long the script and the WebAssembly start took

/** OpenCV.js and keypoints.js, loaded once. Resolves to {cv}: the module itself is a
 * thenable (Emscripten), which a promise must not be resolved with. */
function openCv() {
  if (!openCvReady) {
    openCvReady = new Promise(function (resolve) {
      var start = performance.now();
      importScripts(OPENCV_URL, 'keypoints.js');
      var loaded = performance.now(), cv = self.cv;
      function ready() {
        openCvTimings = { 'opencv-script': loaded - start, 'opencv-start': performance.now() - loaded };
        resolve({ cv: cv });
      }
      if (cv.Mat) ready();
      else cv.onRuntimeInitialized = ready;
    });
    openCvReady.catch(function () { openCvReady = null; }); // a later photo may try again
  }
  return openCvReady;
}

function base64(bytes) {
  var s = '';
  for (var i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return btoa(s);
}

function stopwatch() {
  var last = performance.now(), ms = {};
  function lap(name) {
    var now = performance.now();
    ms[name] = (ms[name] || 0) + (now - last);
    last = now;
  }
  lap.ms = ms;
  return lap;
}

async function extract(msg) {
  var lap = stopwatch();
  var cv = (await openCv()).cv;
  lap('opencv-wait');
  var img = { data: new Uint8Array(msg.rgba), width: msg.width, height: msg.height, channels: msg.channels };
  var record = base64(StopSpreadKeypoints.extract(cv, img, lap));
  lap('kp-base64');
  return { version: StopSpreadKeypoints.VERSION, data: record, timings: Object.assign(lap.ms, openCvTimings) };
}

async function handle(msg) {
  if (msg.op === 'warm') {
    await openCv();
    return { ready: true, timings: openCvTimings };
  }
  if (msg.op === 'extract') return extract(msg);
  throw new Error('unknown operation');
}

self.onmessage = function (event) {
  var msg = event.data;
  handle(msg).then(function (result) {
    result.id = msg.id;
    self.postMessage(result);
  }, function (err) {
    var out = { id: msg.id, error: String(err && err.message || err) };
    if (msg.op === 'warm') out.ready = false;
    self.postMessage(out);
  });
};
