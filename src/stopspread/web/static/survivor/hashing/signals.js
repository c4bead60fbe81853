/*
 * The "ss-img-1" signal set in JavaScript: the PDQ hashes the survivor's device enrols
 * for one photo, the same recipe as stopspread.hashing.signals.SS_IMG_1 (enrolment
 * side) and _regions.py, computed from one decode:
 *
 *   full (+ its 7 really turned/flipped copies), smooth (box-averaged to 512 px),
 *   trim (flat borders removed), three shared windows (80 % top, 80 % bottom,
 *   70 % centre), straightened rotations of +-2.5 .. 9 degrees, rotations with black
 *   corners and with an expanded canvas at +-2.5, 3.5, 4.5 degrees.
 *
 * The resampling steps are ports of what Pillow does for those calls (Resample.c's BOX
 * filter in 22-bit fixed point, Geometry.c's bilinear affine transform, Convert.c's
 * RGB -> L) and Python's round-half-even, so that the same decoded pixels give the
 * same hashes as `stopspread hash` on the server side. Requires pdq.js first.
 *
 * Images here are {data, width, height, channels}: bytes row by row, channels 4
 * (RGBA from a canvas) or 3 (RGB made here).
 */
(function (root) {
  'use strict';

  var PDQ = root.StopSpreadPDQ;
  var VERSION = 'ss-img-1';
  var WORK_SIDE = 512;
  var FLAT_TOLERANCE = 14;
  var BORDER_SHARE = 0.92;
  var MIN_KEPT_SIDE = 0.30;
  var MIN_SIDE = 5;
  var MIN_ENROLLED_QUALITY = 70;
  var PRECISION_BITS = 22;

  /** Python's round() of a float to an int: halves go to the even neighbour. */
  function pyRound(x) {
    var fl = Math.floor(x), diff = x - fl;
    if (diff > 0.5) return fl + 1;
    if (diff < 0.5) return fl;
    return fl % 2 === 0 ? fl : fl + 1;
  }

  /** Python's round(x, 15) (nearest double to x rounded to 15 decimals). */
  function round15(x) {
    return Number(x.toFixed(15));
  }

  // ---- Pillow's BOX resize (Resample.c, 8 bits per channel) ----

  function boxCoefficients(inSize, outSize) {
    var scale = inSize / outSize, filterscale = scale < 1 ? 1 : scale;
    var support = 0.5 * filterscale, ksize = Math.ceil(support) * 2 + 1;
    var bounds = new Int32Array(outSize * 2), kk = new Int32Array(outSize * ksize);
    var pre = new Float64Array(ksize), ss = 1.0 / filterscale;
    for (var xx = 0; xx < outSize; xx++) {
      var center = (xx + 0.5) * scale, ww = 0.0, x;
      var xmin = Math.trunc(center - support + 0.5);
      if (xmin < 0) xmin = 0;
      var xmax = Math.trunc(center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      for (x = 0; x < xmax; x++) {
        var t = (x + xmin - center + 0.5) * ss;
        var w = t > -0.5 && t <= 0.5 ? 1.0 : 0.0;
        pre[x] = w;
        ww += w;
      }
      for (x = 0; x < xmax; x++) {
        var k = ww !== 0.0 ? pre[x] / ww : pre[x];
        kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS))
          : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
      }
      bounds[xx * 2] = xmin;
      bounds[xx * 2 + 1] = xmax;
    }
    return { bounds: bounds, kk: kk, ksize: ksize };
  }

  function clip8(v) {
    var s = v >> PRECISION_BITS;
    return s < 0 ? 0 : s > 255 ? 255 : s;
  }

  /** Image.resize(size, Resampling.BOX) of an RGB(A) image; returns RGB (channels 3). */
  function resizeBox(img, outW, outH) {
    var ch = img.channels, src = img.data, W = img.width;
    var hc = boxCoefficients(img.width, outW), vc = boxCoefficients(img.height, outH);
    var first = vc.bounds[0];
    var last = vc.bounds[outH * 2 - 2] + vc.bounds[outH * 2 - 1];
    var tmpRows = last - first, tmp = new Uint8Array(outW * tmpRows * 3);
    var half = 1 << (PRECISION_BITS - 1), x, y, b, s0, s1, s2, k, p;
    for (y = 0; y < tmpRows; y++) {
      var row = (y + first) * W * ch;
      for (var xx = 0; xx < outW; xx++) {
        var xmin = hc.bounds[xx * 2], xmax = hc.bounds[xx * 2 + 1], ko = xx * hc.ksize;
        s0 = s1 = s2 = half;
        for (x = 0; x < xmax; x++) {
          k = hc.kk[ko + x];
          p = row + (x + xmin) * ch;
          s0 += src[p] * k; s1 += src[p + 1] * k; s2 += src[p + 2] * k;
        }
        b = (y * outW + xx) * 3;
        tmp[b] = clip8(s0); tmp[b + 1] = clip8(s1); tmp[b + 2] = clip8(s2);
      }
    }
    var out = new Uint8Array(outW * outH * 3);
    for (var yy = 0; yy < outH; yy++) {
      var ymin = vc.bounds[yy * 2] - first, ymax = vc.bounds[yy * 2 + 1], kv = yy * vc.ksize;
      for (x = 0; x < outW; x++) {
        s0 = s1 = s2 = half;
        for (y = 0; y < ymax; y++) {
          k = vc.kk[kv + y];
          p = ((y + ymin) * outW + x) * 3;
          s0 += tmp[p] * k; s1 += tmp[p + 1] * k; s2 += tmp[p + 2] * k;
        }
        b = (yy * outW + x) * 3;
        out[b] = clip8(s0); out[b + 1] = clip8(s1); out[b + 2] = clip8(s2);
      }
    }
    return { data: out, width: outW, height: outH, channels: 3 };
  }

  /** _regions.working_copy: box-shrunk so the long side is at most `side`. */
  function workingCopy(img, side) {
    var scale = side / Math.max(img.width, img.height);
    if (scale >= 1.0) return img;
    var w = Math.max(1, pyRound(img.width * scale)), h = Math.max(1, pyRound(img.height * scale));
    return resizeBox(img, w, h);
  }

  // ---- flat-border trimming (_regions.trim_box) ----

  /**
   * Pillow's RGB -> L of the working copy: (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
   * Border detection and rotations both use a 512 px copy, so one resize serves both.
   */
  function smallLuma(small) {
    var n = small.width * small.height;
    var out = new Int16Array(n), d = small.data, ch = small.channels;
    for (var i = 0; i < n; i++) {
      var p = i * ch;
      out[i] = (d[p] * 19595 + d[p + 1] * 38470 + d[p + 2] * 7471 + 0x8000) >> 16;
    }
    return { data: out, width: small.width, height: small.height };
  }

  /** For each line (row or column): is the share of pixels near its upper median >= 0.92? */
  function borderLines(arr, alongRows) {
    var n = alongRows ? arr.height : arr.width, len = alongRows ? arr.width : arr.height;
    var flags = new Uint8Array(n), hist = new Int32Array(256);
    if (len === 0) { flags.fill(1); return flags; }
    var mid = len >> 1;
    for (var line = 0; line < n; line++) {
      hist.fill(0);
      var i, v;
      for (i = 0; i < len; i++) {
        v = alongRows ? arr.data[line * arr.width + i] : arr.data[i * arr.width + line];
        hist[v]++;
      }
      var median = 0, seen = 0;
      for (v = 0; v < 256; v++) { seen += hist[v]; if (seen > mid) { median = v; break; } }
      var near = 0;
      for (v = Math.max(0, median - FLAT_TOLERANCE); v <= Math.min(255, median + FLAT_TOLERANCE); v++) {
        near += hist[v];
      }
      flags[line] = near / len >= BORDER_SHARE ? 1 : 0;
    }
    return flags;
  }

  function edgeRun(flags, reverse) {
    var n = flags.length;
    for (var i = 0; i < n; i++) if (!flags[reverse ? n - 1 - i : i]) return i;
    return n;
  }

  function scaledBox(box, smallW, smallH, fullW, fullH) {
    var sx = fullW / smallW, sy = fullH / smallH;
    var out = [pyRound(box[0] * sx), pyRound(box[1] * sy), pyRound(box[2] * sx), pyRound(box[3] * sy)];
    var keptW = (out[2] - out[0]) / fullW, keptH = (out[3] - out[1]) / fullH;
    if (keptW < MIN_KEPT_SIDE || keptH < MIN_KEPT_SIDE) return null;
    if (out[0] === 0 && out[1] === 0 && out[2] === fullW && out[3] === fullH) return null;
    return out;
  }

  function trimBox(img, small) {
    var rows = borderLines(small, true), cols = borderLines(small, false);
    var top = edgeRun(rows, false), bottom = edgeRun(rows, true);
    var left = edgeRun(cols, false), right = edgeRun(cols, true);
    if (top + bottom >= small.height || left + right >= small.width) return null;
    var box = [left, top, small.width - right, small.height - bottom];
    return scaledBox(box, small.width, small.height, img.width, img.height);
  }

  /** _regions.crop_window: keep `keep` of each side; anchor 0 = left/top, 1 = right/bottom. */
  function cropWindow(width, height, keep, ax, ay) {
    var w = Math.max(1, pyRound(width * keep)), h = Math.max(1, pyRound(height * keep));
    var left = pyRound((width - w) * ax), upper = pyRound((height - h) * ay);
    return [left, upper, left + w, upper + h];
  }

  // ---- rotations (Pillow's Image.rotate with BILINEAR, Geometry.c) ----

  var DEG = Math.PI / 180.0;

  function fillScale(width, height, degrees) {
    var r = Math.abs(degrees) * DEG, c = Math.cos(r), s = Math.sin(r);
    return Math.min(width / (width * c + height * s), height / (width * s + height * c));
  }

  /** Image.rotate's inverse affine matrix and output size. */
  function rotationMatrix(width, height, degrees, expand) {
    var angle = degrees % 360.0;
    if (angle < 0) angle += 360.0;
    var cx = width / 2, cy = height / 2, a = -(angle * DEG);
    var m = [round15(Math.cos(a)), round15(Math.sin(a)), 0.0, round15(-Math.sin(a)), round15(Math.cos(a)), 0.0];
    function tf(x, y) { return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]; }
    var t = tf(-cx - 0, -cy - 0);
    m[2] = t[0] + cx; m[5] = t[1] + cy;
    var w = width, h = height;
    if (expand) {
      var xs = [], ys = [], corners = [[0, 0], [w, 0], [w, h], [0, h]];
      for (var i = 0; i < 4; i++) { var c = tf(corners[i][0], corners[i][1]); xs.push(c[0]); ys.push(c[1]); }
      var nw = Math.ceil(Math.max.apply(null, xs)) - Math.floor(Math.min.apply(null, xs));
      var nh = Math.ceil(Math.max.apply(null, ys)) - Math.floor(Math.min.apply(null, ys));
      t = tf(-(nw - w) / 2.0, -(nh - h) / 2.0);
      m[2] = t[0]; m[5] = t[1];
      w = nw; h = nh;
    }
    return { m: m, width: w, height: h };
  }

  /** The rotated image's pixels inside `box` (output coordinates), corners black. */
  function rotate(img, degrees, expand, box) {
    var r = rotationMatrix(img.width, img.height, degrees, expand), m = r.m;
    var x0 = box ? box[0] : 0, y0 = box ? box[1] : 0;
    var x1 = box ? box[2] : r.width, y1 = box ? box[3] : r.height;
    var W = img.width, H = img.height, ch = img.channels, src = img.data;
    var ow = x1 - x0, out = new Uint8Array(ow * (y1 - y0) * 3);
    for (var y = y0; y < y1; y++) {
      for (var x = x0; x < x1; x++) {
        var xi = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
        var yi = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
        if (xi < 0.0 || xi >= W || yi < 0.0 || yi >= H) continue;
        xi -= 0.5; yi -= 0.5;
        var ix = Math.floor(xi), iy = Math.floor(yi), dx = xi - ix, dy = yi - iy;
        var c0 = (ix < 0 ? 0 : ix < W ? ix : W - 1) * ch;
        var c1 = (ix + 1 < 0 ? 0 : ix + 1 < W ? ix + 1 : W - 1) * ch;
        var r0 = (iy < 0 ? 0 : iy < H ? iy : H - 1) * W * ch;
        var hasNext = iy + 1 >= 0 && iy + 1 < H, r1 = (iy + 1) * W * ch;
        var o = ((y - y0) * ow + (x - x0)) * 3;
        for (var b = 0; b < 3; b++) {
          var a0 = src[r0 + c0 + b], a1 = src[r0 + c1 + b];
          var v1 = a0 + (a1 - a0) * dx, v2 = v1;
          if (hasNext) { var b0 = src[r1 + c0 + b], b1 = src[r1 + c1 + b]; v2 = b0 + (b1 - b0) * dx; }
          out[o + b] = Math.trunc(v1 + (v2 - v1) * dy);
        }
      }
    }
    return { data: out, width: ow, height: y1 - y0, channels: 3 };
  }

  // ---- the recipe ----

  var ANCHORS = { t: [0.5, 0.0], b: [0.5, 1.0], c: [0.5, 0.5] };

  function enrolmentVariants() {
    var v = [{ kind: 'full', tag: 'full' }, { kind: 'smooth', tag: 'smooth' }, { kind: 'trim', tag: 'trim' },
      { kind: 'crop', keep: 0.8, anchor: 't', tag: 'crop80-t' },
      { kind: 'crop', keep: 0.8, anchor: 'b', tag: 'crop80-b' },
      { kind: 'crop', keep: 0.7, anchor: 'c', tag: 'crop70-c' }];
    function rotations(prefix, mode, degrees) {
      degrees.forEach(function (d) {
        [-1, 1].forEach(function (sign) {
          var deg = sign * d;
          v.push({ kind: 'rot', mode: mode, degrees: deg, tag: prefix + (deg > 0 ? '+' : '') + deg });
        });
      });
    }
    rotations('rot', 'straighten', [2.5, 3.5, 4.5, 6.0, 7.5, 9.0]);
    rotations('rotc', 'corners', [2.5, 3.5, 4.5]);
    rotations('rote', 'expand', [2.5, 3.5, 4.5]);
    return v;
  }
  var ENROLMENT = enrolmentVariants();

  /** The region a variant hashes: {img, box} (box in img), or null when it does not apply. */
  function region(shared, variant) {
    var img = shared.img;
    switch (variant.kind) {
      case 'full': return { img: img, box: null };
      case 'smooth': return { img: shared.work(), box: null };
      case 'trim': {
        var box = trimBox(img, shared.small());
        return box ? { img: img, box: box } : null;
      }
      case 'crop': {
        var a = ANCHORS[variant.anchor];
        return { img: img, box: cropWindow(img.width, img.height, variant.keep, a[0], a[1]) };
      }
      default: {
        var work = shared.work();
        if (variant.mode === 'straighten') {
          var s = fillScale(work.width, work.height, variant.degrees);
          var win = cropWindow(work.width, work.height, s, 0.5, 0.5);
          return { img: rotate(work, variant.degrees, false, win), box: null };
        }
        return { img: rotate(work, variant.degrees, variant.mode === 'expand', null), box: null };
      }
    }
  }

  function boxSize(r) {
    return r.box ? [r.box[2] - r.box[0], r.box[3] - r.box[1]] : [r.img.width, r.img.height];
  }

  /**
   * The enrolment hashes of one decoded image: [{value, quality, tag}], the plain PDQ
   * first, duplicates kept once. onStep(done, total) reports progress.
   */
  function enrolmentHashes(img, onStep) {
    var cache = {};
    var shared = {
      img: img,
      work: function () { return cache.work || (cache.work = workingCopy(img, WORK_SIDE)); },
      small: function () { return cache.small || (cache.small = smallLuma(shared.work())); }
    };
    var out = [], seen = {}, fullQuality = 100, total = ENROLMENT.length;
    function add(value, quality, tag) {
      if (!seen[value]) { seen[value] = true; out.push({ value: value, quality: quality, tag: tag }); }
    }
    for (var n = 0; n < total; n++) {
      var variant = ENROLMENT[n];
      if (onStep) onStep(n, total);
      if (variant.kind === 'rot' && fullQuality < MIN_ENROLLED_QUALITY) continue;
      var r = region(shared, variant);
      var size = r ? boxSize(r) : [0, 0];
      if (!r || Math.min(size[0], size[1]) < MIN_SIDE) {
        if (variant.kind === 'full') add(PDQ.ZERO_HASH, 0, 'full'); // as plain PDQ: zeros
        continue;
      }
      var h = PDQ.pdqRegion(r.img, r.box, 'original', true);
      if (variant.kind === 'full') {
        fullQuality = h.quality;
        add(h.hash, h.quality, 'full');
        for (var d = 1; d < PDQ.DIHEDRALS.length; d++) {
          var turned = PDQ.pdqRegion(r.img, r.box, PDQ.DIHEDRALS[d], true);
          add(turned.hash, h.quality, 'full:' + PDQ.DIHEDRALS[d]);
        }
      } else if (h.quality >= MIN_ENROLLED_QUALITY) {
        add(h.hash, h.quality, variant.tag);
      }
    }
    if (onStep) onStep(total, total);
    return out;
  }

  root.StopSpreadSignals = {
    VERSION: VERSION,
    MAX_PDQS: 37,
    enrolmentHashes: enrolmentHashes,
    // exposed for tests
    resizeBox: resizeBox,
    workingCopy: workingCopy,
    rotate: rotate,
    trimBox: trimBox,
    smallLuma: smallLuma,
    pyRound: pyRound
  };
})(self);
