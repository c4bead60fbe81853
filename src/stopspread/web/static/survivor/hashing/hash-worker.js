/*
 * The hashing worker: decodes images (createImageBitmap + OffscreenCanvas at the
 * natural size), computes PDQ / the signal set, MD5 and SHA-256, and hashes video
 * frames the page grabs. The page stays responsive; nothing here talks to the
 * network. A survivor's enrolment with keypoints (ss-kp-1) also starts keypoint-worker.js
 * (OpenCV.js), which works on a copy of the pixels beside the PDQ signal set.
 * Messages: {id, op, ...} in; {id, type: "progress" | "result" | "error", ...} out
 * (progress stage "preparing": OpenCV.js is still loading). Loaded by hashing.js as a
 * classic worker.
 */
/* global importScripts, StopSpreadPDQ, StopSpreadSignals, StopSpreadDigest, StopSpreadHeader */
'use strict';

importScripts('pdq.js', 'signals.js', 'digest.js', 'header.js');

var CHUNK_BYTES = 4 * 1024 * 1024;
// Up to this size SHA-256 uses WebCrypto over the whole file in memory; above it a
// streaming SHA-256 in JavaScript keeps memory bounded (WebCrypto has no streaming).
var DEFAULT_WHOLE_FILE_SHA256_BYTES = 256 * 1024 * 1024;
var MAX_IMAGE_PIXELS = 89478485; // Pillow's decompression-bomb threshold, as the server

function fail(code, message) {
  var e = new Error(message);
  e.code = code;
  return e;
}

function post(id, type, body) {
  var msg = body || {};
  msg.id = id;
  msg.type = type;
  self.postMessage(msg);
}

async function digestFile(id, file, wholeLimit) {
  var total = file.size, md5 = new StopSpreadDigest.Md5();
  var limit = typeof wholeLimit === 'number' ? wholeLimit : DEFAULT_WHOLE_FILE_SHA256_BYTES;
  var whole = total <= limit && self.crypto && self.crypto.subtle;
  var sha = whole ? null : new StopSpreadDigest.Sha256();
  var buffer = whole ? await file.arrayBuffer() : null;
  var done = 0;
  do {
    var bytes = whole ? new Uint8Array(buffer, done, Math.min(CHUNK_BYTES, total - done))
      : new Uint8Array(await file.slice(done, done + CHUNK_BYTES).arrayBuffer());
    md5.update(bytes);
    if (sha) sha.update(bytes);
    done += bytes.length;
    post(id, 'progress', { stage: 'reading', done: done, total: total });
  } while (done < total);
  var sha256 = whole ? StopSpreadDigest.toHex(await self.crypto.subtle.digest('SHA-256', buffer))
    : sha.hex();
  return { md5: md5.hex(), sha256: sha256, streamed: !whole };
}

function hasTransparency(data) {
  for (var i = 3; i < data.length; i += 4) if (data[i] !== 255) return true;
  return false;
}

/**
 * The bitmap's RGBA exactly as stored, through a WebGL texture. A 2D canvas keeps colours
 * premultiplied by alpha, so partly transparent pixels come back rounded and fully
 * transparent ones black; Pillow (and so the reference pipeline) keeps the stored colours.
 * A texture uploaded without premultiplication reads back the stored bytes. Returns null
 * where WebGL is missing or the image is larger than a texture may be.
 */
function storedPixels(bitmap) {
  var w = bitmap.width, h = bitmap.height, gl = null;
  try {
    gl = new OffscreenCanvas(1, 1).getContext('webgl');
  } catch (e) {
    return null;
  }
  if (!gl || w > gl.getParameter(gl.MAX_TEXTURE_SIZE) || h > gl.getParameter(gl.MAX_TEXTURE_SIZE)) return null;
  var texture = gl.createTexture(), framebuffer = gl.createFramebuffer();
  try {
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    var out = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, out);
    return gl.getError() === gl.NO_ERROR ? out : null;
  } finally {
    gl.deleteFramebuffer(framebuffer);
    gl.deleteTexture(texture);
    var lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
  }
}

/** Milliseconds per stage: lap(name) adds the time since the last lap to `name`. */
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

function noLap() {}

/** RGBA bytes of an image file at its natural size, EXIF orientation and colour profile ignored. */
async function decode(file, lap) {
  var mark = lap || noLap;
  var header = await StopSpreadHeader.inspect(file), bitmap;
  mark('header');
  if (header.size && header.size.width * header.size.height > MAX_IMAGE_PIXELS) {
    throw fail('too-large', 'image has too many pixels'); // refused before any decoding
  }
  try {
    bitmap = await createImageBitmap(header.blob, {
      imageOrientation: 'none', colorSpaceConversion: 'none', premultiplyAlpha: 'none'
    });
  } catch (e) {
    throw fail('decode-failed', 'the browser cannot decode this image');
  }
  mark('decode');
  try {
    var w = bitmap.width, h = bitmap.height;
    if (w * h > MAX_IMAGE_PIXELS) throw fail('too-large', 'image has too many pixels');
    var canvas = new OffscreenCanvas(w, h);
    var ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!ctx) throw fail('decode-failed', 'no 2D canvas');
    ctx.drawImage(bitmap, 0, 0);
    var data = ctx.getImageData(0, 0, w, h, { colorSpace: 'srgb' }).data;
    if (hasTransparency(data)) data = storedPixels(bitmap) || data;
    mark('pixels');
    return { data: data, width: w, height: h, channels: 4 };
  } finally {
    bitmap.close();
  }
}

/** SHA-256 of the decoded RGB bytes (alpha dropped), for tests that compare with Pillow's. */
async function rgbSha256(img) {
  var n = img.width * img.height, rgb = new Uint8Array(n * 3), d = img.data;
  for (var i = 0; i < n; i++) { rgb[i * 3] = d[i * 4]; rgb[i * 3 + 1] = d[i * 4 + 1]; rgb[i * 3 + 2] = d[i * 4 + 2]; }
  return StopSpreadDigest.toHex(await self.crypto.subtle.digest('SHA-256', rgb));
}

var KEYPOINT_WORKER_URL = 'keypoint-worker.js'; // OpenCV.js and keypoints.js: ss-kp-1
var keypointWorker = null;
var keypointsReady = false; // OpenCV.js has loaded in the keypoint worker

/** The enrolment's keypoint worker (nested, started on first use): call(msg, transfer)
 * resolves to its answer, {error} included; it never rejects. */
function keypointClient() {
  if (keypointWorker) return keypointWorker;
  if (typeof Worker !== 'function') {
    return { call: function () { return Promise.resolve({ error: 'no nested workers here' }); } };
  }
  var worker = new Worker(KEYPOINT_WORKER_URL), pending = {}, next = 1;
  worker.onmessage = function (event) {
    var answer = event.data, resolve = pending[answer.id];
    delete pending[answer.id];
    if (!answer.error) keypointsReady = true;
    if (resolve) resolve(answer);
  };
  worker.onerror = function (event) {
    event.preventDefault();
    keypointWorker = null; // a later photo starts another
    worker.terminate();
    Object.keys(pending).forEach(function (id) { pending[id]({ error: 'the keypoint worker stopped' }); });
    pending = {};
  };
  keypointWorker = {
    call: function (msg, transfer) {
      msg.id = next++;
      return new Promise(function (resolve) {
        pending[msg.id] = resolve;
        worker.postMessage(msg, transfer || []);
      });
    }
  };
  return keypointWorker;
}

/** The page's 'warm' message: OpenCV.js loads now, before she has chosen her photos. */
function warm() {
  return keypointClient().call({ op: 'warm' }).then(function (answer) {
    return answer.error ? { ready: false, error: answer.error } : { ready: true, timings: answer.timings };
  });
}

/** Starts the image's ss-kp-1 record in the keypoint worker, on a copy of its pixels (the
 * PDQ signal set goes on with the original meanwhile). Resolves to {version, data (base64),
 * timings} or {error}. */
function startKeypoints(id, img) {
  if (!keypointsReady) post(id, 'progress', { stage: 'preparing', done: 0, total: 1 });
  var rgba = img.data.slice().buffer;
  return keypointClient().call(
    { op: 'extract', rgba: rgba, width: img.width, height: img.height, channels: img.channels }, [rgba]);
}

async function hashImage(id, file, details, keypoints) {
  var lap = stopwatch();
  var img = await decode(file, lap);
  var pending = keypoints ? startKeypoints(id, img) : null;
  if (pending) lap('kp-send');
  var hashes = StopSpreadSignals.enrolmentHashes(img, function (done, total) {
    post(id, 'progress', { stage: 'hashing', done: done, total: total });
  });
  lap('pdq');
  var out = { width: img.width, height: img.height, hashes: hashes, timings: lap.ms };
  if (pending) {
    var answer = await pending;
    lap('kp-wait'); // how long PDQ's end waited for the keypoints
    out.keypoints = answer.error ? { error: answer.error } : { version: answer.version, data: answer.data };
    Object.assign(lap.ms, answer.timings);
  }
  if (details) {
    out.pdq = StopSpreadPDQ.pdqWithDihedrals(img);
    out.rgbSha256 = await rgbSha256(img);
  }
  return out;
}

function hashFrame(msg) {
  var img = { data: new Uint8Array(msg.rgba), width: msg.width, height: msg.height, channels: 4 };
  var r = StopSpreadPDQ.pdqRegion(img, null, 'original', false); // vPDQ: native size
  return { value: r.hash, quality: r.quality };
}

async function handle(msg) {
  switch (msg.op) {
    case 'digest': return digestFile(msg.id, msg.file, msg.wholeLimit);
    case 'image': return hashImage(msg.id, msg.file, msg.details, msg.keypoints);
    case 'frame': return hashFrame(msg);
    case 'warm': return warm();
    case 'decode': {
      var img = await decode(msg.file);
      return { width: img.width, height: img.height, rgba: img.data.buffer };
    }
    default: throw fail('unsupported', 'unknown operation');
  }
}

self.onmessage = function (event) {
  var msg = event.data;
  handle(msg).then(function (result) {
    var transfer = result && result.rgba ? [result.rgba] : [];
    self.postMessage({ id: msg.id, type: 'result', result: result }, transfer);
  }, function (err) {
    post(msg.id, 'error', { code: err.code || 'decode-failed', message: String(err.message || err) });
  });
};
