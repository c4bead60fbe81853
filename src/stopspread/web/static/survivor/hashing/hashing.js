/*
 * window.StopSpreadHashing: hash a survivor's file on her device. Nothing is uploaded;
 * the result holds only hashes (see docs/browser-hashing.md for the interface).
 *
 *   StopSpreadHashing.supported() -> boolean
 *   StopSpreadHashing.prepare({keypoints: true}) -> Promise<{ready}>: load OpenCV.js early
 *   StopSpreadHashing.hashFile(file, {onProgress, signal, keypoints}) -> Promise<{
 *     name, kind: "image" | "video",
 *     keypoints (images, when asked): {version: "ss-kp-1", data: base64} | {error},
 *     signals: [{type: "pdq", value, quality} | {type: "md5", value}],
 *     sha256, setVersion, frames: [{time, value, quality}] (videos; [] for images)}>
 *   onProgress({done, total, stage: "reading" | "hashing" | "frames"})
 *   Errors reject with err.code "unsupported" | "too-large" | "decode-failed" | "no-video-frames"
 *   (and "aborted" when options.signal, an AbortSignal, is aborted).
 *
 * The pixel work and the digests run in hash-worker.js; this thread only grabs video
 * frames (a <video> element that is never shown, and a canvas).
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var WORKER_URL = script && script.src ? new URL('hash-worker.js', script.src).href
    : '/static/survivor/hashing/hash-worker.js';
  var IMAGE_SET_VERSION = 'ss-img-1';
  var VIDEO_SET_VERSION = 'vpdq-1s-1';
  var MiB = 1024 * 1024;
  var MAX_IMAGE_BYTES = 100 * MiB; // as the server's DecodeLimits
  var MAX_VIDEO_BYTES = 2048 * MiB; // as the server's VideoLimits
  var MAX_FRAME_PIXELS = 7680 * 4320;
  var MAX_VIDEO_SECONDS = 3 * 3600;
  var SECONDS_PER_FRAME = 1;
  var FRAMES_IN_FLIGHT = 2;
  var PRESENT_TIMEOUT_MS = 1500;
  var VIDEO_EVENT_TIMEOUT_MS = 30000;

  function fail(code, message) {
    var e = new Error(message);
    e.code = code;
    return e;
  }

  function supported() {
    return typeof Worker === 'function' && typeof createImageBitmap === 'function' &&
      typeof OffscreenCanvas === 'function' && typeof Blob !== 'undefined' &&
      typeof Blob.prototype.arrayBuffer === 'function' && typeof URL.createObjectURL === 'function';
  }

  /** A worker with promise-returning calls; progress messages go to onProgress. */
  function HashWorker(onProgress) {
    var pending = {}, next = 1;
    var worker = new Worker(WORKER_URL);
    worker.onmessage = function (event) {
      var msg = event.data, p = pending[msg.id];
      if (!p) return;
      if (msg.type === 'progress') { if (p.progress) p.progress(msg); return; }
      delete pending[msg.id];
      if (msg.type === 'result') p.resolve(msg.result);
      else p.reject(fail(msg.code, msg.message));
    };
    function rejectAll(error) {
      Object.keys(pending).forEach(function (id) {
        pending[id].reject(error);
        delete pending[id];
      });
    }
    var self = this;
    this.dead = false;
    worker.onerror = function (event) {
      event.preventDefault();
      self.dead = true;
      rejectAll(fail('decode-failed', 'the hashing worker stopped'));
    };
    this.call = function (msg, transfer, progress) {
      var id = next++;
      msg.id = id;
      return new Promise(function (resolve, reject) {
        pending[id] = { resolve: resolve, reject: reject, progress: progress || onProgress };
        worker.postMessage(msg, transfer || []);
      });
    };
    this.close = function (error) {
      self.dead = true;
      worker.terminate();
      rejectAll(error || fail('aborted', 'stopped'));
    };
  }

  // One worker for all the photos of an enrolment with keypoints, so that OpenCV.js (11 MB)
  // is loaded and compiled once, not once a photo. Other calls keep a worker of their own.
  var enrolWorker = null;

  function workerFor(keypoints) {
    if (!keypoints) return new HashWorker(null);
    if (!enrolWorker || enrolWorker.dead) enrolWorker = new HashWorker(null);
    return enrolWorker;
  }

  // ---- what kind of file (from its first bytes; the type the OS gives may be missing) ----

  function ascii(bytes, from, to) {
    return String.fromCharCode.apply(null, Array.prototype.slice.call(bytes, from, to));
  }

  async function sniff(file) {
    var b = new Uint8Array(await file.slice(0, 32).arrayBuffer());
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image';
    if (b.length >= 8 && ascii(b, 1, 4) === 'PNG') return 'image';
    if (ascii(b, 0, 4) === 'GIF8' || ascii(b, 0, 2) === 'BM') return 'image';
    if (ascii(b, 0, 4) === 'RIFF') {
      var form = ascii(b, 8, 12);
      return form === 'WEBP' ? 'image' : form === 'AVI ' ? 'video' : null;
    }
    if (/^(moov|mdat|wide|free|skip)$/.test(ascii(b, 4, 8))) return 'video'; // QuickTime without ftyp
    if (ascii(b, 4, 8) === 'ftyp') {
      var brand = ascii(b, 8, 12);
      return /^(avif|avis|heic|heix|mif1)$/.test(brand) ? 'image' : 'video';
    }
    if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'video';
    if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && (b[3] === 0xba || b[3] === 0xb3)) return 'video';
    if (b[0] === 0x47 && file.size % 188 === 0) return 'video'; // MPEG-TS
    return null;
  }

  // ---- video frames: one per second through a <video> element and a canvas ----

  /** The next `ok` event; `bad`, or nothing within VIDEO_EVENT_TIMEOUT_MS (a damaged file
   * can stall the player without an error), rejects with "decode-failed". */
  function once(target, ok, bad) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { done({ type: 'timeout' }); }, VIDEO_EVENT_TIMEOUT_MS);
      function done(event) {
        clearTimeout(timer);
        target.removeEventListener(ok, done);
        target.removeEventListener(bad, done);
        if (event.type === ok) resolve(); else reject(fail('decode-failed', 'the browser cannot play this video'));
      }
      target.addEventListener(ok, done);
      target.addEventListener(bad, done);
    });
  }

  async function openVideo(url) {
    var video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.preload = 'auto';
    var loaded = once(video, 'loadeddata', 'error');
    video.src = url;
    await loaded;
    if (!isFinite(video.duration)) { // some WebM files: the length is known only at the end
      var seeked = once(video, 'seeked', 'error');
      video.currentTime = 1e9;
      await seeked;
    }
    return video;
  }

  /**
   * Resolves once the frame for `time` has been presented. 'seeked' alone is not enough:
   * under load Chromium can still hand drawImage the previous frame (measured: 1-3 stale
   * frames in 30). requestVideoFrameCallback reports the presented frame's media time;
   * without it, or when no new frame comes (a frame longer than a second), a timeout ends
   * the wait.
   */
  function presented(video, time) {
    return new Promise(function (resolve) {
      if (typeof video.requestVideoFrameCallback !== 'function') { resolve(); return; }
      var timer = setTimeout(resolve, PRESENT_TIMEOUT_MS);
      function check(now, meta) {
        if (meta.mediaTime > time - SECONDS_PER_FRAME / 2) { clearTimeout(timer); resolve(); }
        else video.requestVideoFrameCallback(check);
      }
      video.requestVideoFrameCallback(check);
    });
  }

  async function seek(video, time) {
    if (time === 0 && video.currentTime === 0) return; // the first frame is shown after loadeddata
    var shown = presented(video, time);
    var seeked = once(video, 'seeked', 'error');
    video.currentTime = time;
    await seeked;
    await shown;
  }

  async function hashVideo(file, worker, progress, signal) {
    var url = URL.createObjectURL(file), video = null;
    try {
      video = await openVideo(url);
      var w = video.videoWidth, h = video.videoHeight, duration = video.duration;
      if (!w || !h || !isFinite(duration) || duration <= 0) throw fail('no-video-frames', 'no video picture found');
      if (w * h > MAX_FRAME_PIXELS || duration > MAX_VIDEO_SECONDS) throw fail('too-large', 'video is too large');
      var total = Math.ceil(duration / SECONDS_PER_FRAME);
      var ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true, alpha: false });
      var frames = [], inFlight = [];
      progress({ stage: 'frames', done: 0, total: total });
      for (var n = 0; n < total; n++) {
        if (signal && signal.aborted) throw fail('aborted', 'stopped');
        var time = n * SECONDS_PER_FRAME;
        await seek(video, time);
        ctx.drawImage(video, 0, 0, w, h);
        var rgba = ctx.getImageData(0, 0, w, h).data.buffer;
        var job = worker.call({ op: 'frame', rgba: rgba, width: w, height: h }, [rgba]);
        var done = job.then((function (t) {
          return function (r) {
            frames.push({ time: t, value: r.value, quality: r.quality });
            progress({ stage: 'frames', done: frames.length, total: total });
          };
        })(time));
        done.catch(function () {}); // awaited below; this only keeps an abort from being "unhandled"
        inFlight.push(done);
        if (inFlight.length >= FRAMES_IN_FLIGHT) await inFlight.shift();
      }
      await Promise.all(inFlight);
      if (!frames.length) throw fail('no-video-frames', 'no video picture found');
      frames.sort(function (a, b) { return a.time - b.time; });
      return frames;
    } finally {
      if (video) { video.removeAttribute('src'); video.load(); }
      URL.revokeObjectURL(url);
    }
  }

  function distinctFrameSignals(frames) {
    var seen = {}, out = [];
    frames.forEach(function (f) {
      if (!seen[f.value]) { seen[f.value] = true; out.push({ type: 'pdq', value: f.value, quality: f.quality }); }
    });
    return out;
  }

  /**
   * Hash one File. options.onProgress receives {done, total, stage}; options.signal (an
   * AbortSignal) stops the work: the worker is ended and the promise rejects with code
   * "aborted". Test-only options:
   * _wholeFileSha256Limit (bytes; above it SHA-256 is streamed in JavaScript), _timings (adds
 * result._timings: milliseconds per stage, for bench/browser_enrol.py), _details
   * (adds result._details: the variant tags, the plain PDQ + 8 dihedral hashes and the
   * SHA-256 of the decoded RGB bytes).
   */
  async function hashFile(file, options) {
    var opts = options || {};
    var progress = typeof opts.onProgress === 'function' ? opts.onProgress : function () {};
    if (!supported()) throw fail('unsupported', 'this browser cannot hash files here');
    var signal = opts.signal;
    if (signal && signal.aborted) throw fail('aborted', 'stopped');
    var kind = await sniff(file);
    if (!kind) throw fail('unsupported', 'not an image or video this page can read');
    if (file.size > (kind === 'image' ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES)) throw fail('too-large', 'file is too large');
    var shared = !!opts.keypoints;
    var worker = workerFor(shared);
    function relay(msg) { progress({ stage: msg.stage, done: msg.done, total: msg.total }); }
    function onAbort() { worker.close(fail('aborted', 'stopped')); }
    if (signal) signal.addEventListener('abort', onAbort);
    try {
      var started = performance.now();
      var digests = await worker.call({ op: 'digest', file: file, wholeLimit: opts._wholeFileSha256Limit }, null, relay);
      var md5 = { type: 'md5', value: digests.md5 };
      var result = { name: file.name, kind: kind, sha256: digests.sha256 };
      if (kind === 'image') {
        var digested = performance.now();
        var img = await worker.call({ op: 'image', file: file, details: !!opts._details, keypoints: shared }, null, relay);
        if (opts._timings) {
          result._timings = Object.assign({ digest: digested - started, image: performance.now() - digested }, img.timings);
        }
        result.signals = img.hashes.map(function (h) {
          return { type: 'pdq', value: h.value, quality: h.quality };
        }).concat([md5]);
        result.setVersion = IMAGE_SET_VERSION;
        result.frames = [];
        if (img.keypoints) result.keypoints = img.keypoints;
        if (opts._details) {
          result._details = { width: img.width, height: img.height, pdq: img.pdq, hashes: img.hashes, rgbSha256: img.rgbSha256 };
        }
      } else {
        var frames = await hashVideo(file, worker, progress, signal);
        result.signals = distinctFrameSignals(frames).concat([md5]);
        result.setVersion = VIDEO_SET_VERSION;
        result.frames = frames;
      }
      return result;
    } finally {
      if (signal) signal.removeEventListener('abort', onAbort);
      if (!shared) worker.close();
    }
  }

  /**
   * Get ready to hash her photos with keypoints (options.keypoints): the enrolment's worker
   * starts loading and compiling OpenCV.js now, while she is still choosing photos, so that
   * her first photo does not wait for it. Resolves to {ready, timings} ({ready: false,
   * error} where OpenCV.js cannot load; her photos then try again). Without keypoints there
   * is nothing to prepare.
   */
  function prepare(options) {
    if (!supported() || !(options && options.keypoints)) return Promise.resolve({ ready: false });
    return workerFor(true).call({ op: 'warm' }).catch(function (error) {
      return { ready: false, error: String(error && error.message) };
    });
  }

  /** Test-only: the RGBA bytes the worker decodes for an image file ({width, height, rgba}). */
  async function decodeForTest(file) {
    var worker = new HashWorker(null);
    try { return await worker.call({ op: 'decode', file: file }); } finally { worker.close(); }
  }

  window.StopSpreadHashing = {
    supported: supported,
    hashFile: hashFile,
    prepare: prepare,
    IMAGE_SET_VERSION: IMAGE_SET_VERSION,
    VIDEO_SET_VERSION: VIDEO_SET_VERSION,
    _decodeForTest: decodeForTest
  };
})();
