/*
 * ss-kp-1 in the browser: the content-anchored keypoints of one image, byte for byte the
 * record Python's stopspread.hashing.keypoints stores (KeypointSet.to_bytes).
 *
 * OpenCV.js (ORB) is passed in as `cv`: the hashing worker loads it only when a survivor
 * enrols (opencv.js is large). The pipeline, step by step as in Python:
 *   grey working copy: Pillow's L of the RGB pixels, long side 640 px (cv.resize INTER_AREA
 *   down, INTER_LINEAR up; sizes rounded as Python rounds);
 *   ORB (1,600 candidates, 8 levels, scale 1.2, edge 31) finds the keypoints (the same
 *   points and responses as cv2, listed in another order);
 *   400 kept, strongest first, at most 2/16 in one cell of a 4 x 4 grid;
 *   each kept point's angle recomputed from integer moments on ORB's pyramid and rounded to
 *   a whole degree (OpenCV.js's fastAtan2 differs from cv2's by up to 0.01 degree);
 *   ORB's descriptors at those angles; positions kept to 1/64 of the width and height.
 */
(function (root) {
  'use strict';

  var VERSION = 'ss-kp-1';
  var LONG_SIDE = 640;
  var N_FEATURES = 400;
  var GRID = 64;
  var DESCRIPTOR_BYTES = 32;
  var FORMAT_VERSION = 1;
  var OVERDETECT = 4;
  var CELLS = 4;
  var LEVELS = 8;
  var PATCH = 31;
  // ORB's level scales, 1.2 ** level as float32 (the same literals as Python's _SCALES)
  var SCALES = [1.0, 1.2, 1.44, 1.728, 2.0736, 2.48832, 2.985984, 3.5831808].map(Math.fround);

  /** Python's round() of a float to an int: halves go to the even neighbour. */
  function pyRound(x) {
    var fl = Math.floor(x), diff = x - fl;
    if (diff > 0.5) return fl + 1;
    if (diff < 0.5) return fl;
    return fl % 2 === 0 ? fl : fl + 1;
  }

  /** ORB's circular patch of radius 15 (umax in features2d/src/orb.cpp): rows and columns. */
  var PATCH_OFFSETS = (function () {
    var half = PATCH >> 1, umax = [], v, v0;
    var vmax = Math.floor(half * Math.SQRT2 / 2 + 1), vmin = Math.ceil(half * Math.SQRT2 / 2);
    for (v = 0; v <= half + 1; v++) umax.push(0);
    for (v = 0; v <= vmax; v++) umax[v] = pyRound(Math.sqrt(half * half - v * v));
    for (v = half, v0 = 0; v >= vmin; --v) {
      while (umax[v0] === umax[v0 + 1]) ++v0;
      umax[v] = v0;
      ++v0;
    }
    var rows = [], cols = [];
    for (v = -half; v <= half; v++) {
      var u = umax[Math.abs(v)];
      for (var c = -u; c <= u; c++) { rows.push(v); cols.push(c); }
    }
    return { rows: Int32Array.from(rows), cols: Int32Array.from(cols) };
  })();

  /** Pillow's convert('L') of the RGB(A) pixels, then resized to a 640 px long side. */
  function greyWorkingCopy(cv, img) {
    var n = img.width * img.height, ch = img.channels, d = img.data;
    var src = new cv.Mat(img.height, img.width, cv.CV_8UC1), g = src.data;
    for (var i = 0, p = 0; i < n; i++, p += ch) {
      g[i] = (d[p] * 19595 + d[p + 1] * 38470 + d[p + 2] * 7471 + 0x8000) >>> 16;
    }
    var scale = LONG_SIDE / Math.max(img.width, img.height);
    var w = Math.max(1, pyRound(img.width * scale)), h = Math.max(1, pyRound(img.height * scale));
    var dst = new cv.Mat();
    try {
      cv.resize(src, dst, new cv.Size(w, h), 0, 0, scale < 1 ? cv.INTER_AREA : cv.INTER_LINEAR);
      return { data: new Uint8Array(dst.data), width: w, height: h };
    } finally {
      src.delete();
      dst.delete();
    }
  }

  function plain(k) {
    return { x: k.pt.x, y: k.pt.y, response: k.response, size: k.size, octave: k.octave };
  }

  /** Strongest first; ties by level and position (never by the order ORB lists them in). */
  function byStrength(a, b) {
    return (b.response - a.response) || (a.octave - b.octave) || (a.y - b.y) || (a.x - b.x);
  }

  /** The kept points, strongest first, at most 2/16 of them in one cell of a 4 x 4 grid. */
  function spreadOut(found, w, h, nFeatures) {
    var order = found.slice().sort(byStrength);
    var cap = Math.max(1, Math.floor(2 * nFeatures / (CELLS * CELLS)));
    var perCell = {}, kept = [], chosen = new Set();
    for (var i = 0; i < order.length && kept.length < nFeatures; i++) {
      var k = order[i];
      var cell = Math.min(Math.floor(k.x / w * CELLS), CELLS - 1) * CELLS +
        Math.min(Math.floor(k.y / h * CELLS), CELLS - 1);
      if ((perCell[cell] || 0) < cap) {
        perCell[cell] = (perCell[cell] || 0) + 1;
        kept.push(k);
        chosen.add(k);
      }
    }
    for (var j = 0; j < order.length && kept.length < nFeatures; j++) {
      if (!chosen.has(order[j])) kept.push(order[j]);
    }
    return kept.sort(byStrength);
  }

  /** ORB's scale pyramid (each level from the one before, INTER_LINEAR_EXACT). */
  function pyramid(cv, grey) {
    var levels = [grey];
    for (var l = 1; l < LEVELS; l++) {
      var w = pyRound(Math.fround(grey.width / SCALES[l]));
      var h = pyRound(Math.fround(grey.height / SCALES[l]));
      var prev = levels[l - 1], src = new cv.Mat(prev.height, prev.width, cv.CV_8UC1), dst = new cv.Mat();
      try {
        src.data.set(prev.data);
        cv.resize(src, dst, new cv.Size(w, h), 0, 0, cv.INTER_LINEAR_EXACT);
        levels.push({ data: new Uint8Array(dst.data), width: w, height: h });
      } finally {
        src.delete();
        dst.delete();
      }
    }
    return levels;
  }

  /** The intensity-centroid angle of a keypoint, in whole degrees (as Python's _angle). */
  function angle(levels, k) {
    var level = levels[k.octave], scale = SCALES[k.octave];
    var x = pyRound(k.x / scale), y = pyRound(k.y / scale), d = level.data, w = level.width;
    var rows = PATCH_OFFSETS.rows, cols = PATCH_OFFSETS.cols, m10 = 0, m01 = 0;
    for (var i = 0; i < rows.length; i++) {
      var v = d[(y + rows[i]) * w + x + cols[i]];
      m10 += cols[i] * v;
      m01 += rows[i] * v;
    }
    var deg = pyRound(Math.atan2(m01, m10) * (180 / Math.PI));
    return ((deg % 360) + 360) % 360;
  }

  /** {width, height, cells (n x 2), descriptors (n x 32)} of a grey working copy. */
  function fromGrey(cv, grey, nFeatures) {
    var n = nFeatures || N_FEATURES;
    var mat = new cv.Mat(grey.height, grey.width, cv.CV_8UC1);
    var orb = new cv.ORB(OVERDETECT * n, SCALES[1], LEVELS, PATCH);
    var kps = new cv.KeyPointVector(), desc = new cv.Mat(), none = new cv.Mat();
    try {
      mat.data.set(grey.data);
      orb.detect(mat, kps, none);
      var found = [];
      for (var i = 0; i < kps.size(); i++) found.push(plain(kps.get(i)));
      var kept = found.length ? spreadOut(found, grey.width, grey.height, n) : [];
      var levels = kept.length ? pyramid(cv, grey) : [];
      var chosen = new cv.KeyPointVector();
      try {
        kept.forEach(function (k) {
          chosen.push_back({ pt: { x: k.x, y: k.y }, size: k.size, angle: angle(levels, k),
            response: k.response, octave: k.octave, class_id: -1 });
        });
        if (kept.length) orb.compute(mat, chosen, desc);
        // compute() groups the points by level: put the descriptors back in order
        var row = new Map();
        for (var r = 0; r < chosen.size(); r++) {
          var c = chosen.get(r);
          row.set(c.octave + ':' + c.pt.x + ':' + c.pt.y, r);
        }
        var cells = new Uint8Array(kept.length * 2);
        var descriptors = new Uint8Array(kept.length * DESCRIPTOR_BYTES);
        kept.forEach(function (k, j) {
          var at = row.get(k.octave + ':' + k.x + ':' + k.y);
          if (at === undefined) throw new Error('ORB dropped a keypoint it had found');
          descriptors.set(desc.data.subarray(at * DESCRIPTOR_BYTES, (at + 1) * DESCRIPTOR_BYTES), j * DESCRIPTOR_BYTES);
          cells[2 * j] = Math.min(Math.max(Math.floor(k.x / grey.width * GRID), 0), GRID - 1);
          cells[2 * j + 1] = Math.min(Math.max(Math.floor(k.y / grey.height * GRID), 0), GRID - 1);
        });
      } finally {
        chosen.delete();
      }
      return { width: grey.width, height: grey.height, cells: cells, descriptors: descriptors };
    } finally {
      mat.delete();
      orb.delete();
      kps.delete();
      desc.delete();
      none.delete();
    }
  }

  /** KeypointSet.to_bytes(): >BHHH header, then per point 2 cell bytes and 32 descriptor bytes. */
  function toBytes(set) {
    var count = set.cells.length / 2, out = new Uint8Array(7 + count * (2 + DESCRIPTOR_BYTES));
    var view = new DataView(out.buffer);
    view.setUint8(0, FORMAT_VERSION);
    view.setUint16(1, set.width);
    view.setUint16(3, set.height);
    view.setUint16(5, count);
    for (var j = 0; j < count; j++) {
      var o = 7 + j * (2 + DESCRIPTOR_BYTES);
      out[o] = set.cells[2 * j];
      out[o + 1] = set.cells[2 * j + 1];
      out.set(set.descriptors.subarray(j * DESCRIPTOR_BYTES, (j + 1) * DESCRIPTOR_BYTES), o + 2);
    }
    return out;
  }

  /** The ss-kp-1 record of a decoded image {data, width, height, channels}; `lap(stage)`,
   * when given, is called after each stage (the worker's per-stage timings). */
  function extract(cv, img, lap) {
    var mark = lap || function () {};
    var grey = greyWorkingCopy(cv, img);
    mark('kp-grey');
    var set = fromGrey(cv, grey, N_FEATURES);
    mark('kp-orb');
    var out = toBytes(set);
    mark('kp-record');
    return out;
  }

  root.StopSpreadKeypoints = {
    VERSION: VERSION,
    extract: extract,
    // exposed for tests
    greyWorkingCopy: greyWorkingCopy,
    fromGrey: fromGrey,
    toBytes: toBytes
  };
})(typeof self !== 'undefined' ? self : globalThis);
