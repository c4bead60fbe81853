/*
 * PDQ (Meta's 256-bit perceptual image hash) in plain JavaScript, bit-exact with
 * stopspread.hashing (src/stopspread/hashing/_pdqcore.c): every floating-point step
 * is a float32 operation (Math.fround after each one) in the same order as the C
 * core, so the same pixels give the same DCT and the same hash.
 *
 * Pipeline: RGB(A) bytes -> (above 512 px on a side) nearest-neighbour gather to
 * exactly 512x512, source index floor(x * W / 512) -> float32 luma -> Jarosz tent
 * filter (two passes of box filters) -> 64x64 decimation -> quality -> 16x16 DCT
 * -> threshold at the median -> 64 hex digits in Meta's bit order.
 *
 * A classic script: defines self.StopSpreadPDQ (window or worker). No DOM use.
 */
(function (root) {
  'use strict';

  var f = Math.fround;
  var SIDE = 512;
  var MIN_SIDE = 5;

  var LUT_R = new Float32Array(256);
  var LUT_G = new Float32Array(256);
  var LUT_B = new Float32Array(256);
  (function () {
    var cr = f(0.299), cg = f(0.587), cb = f(0.114);
    for (var v = 0; v < 256; v++) {
      LUT_R[v] = f(cr * v);
      LUT_G[v] = f(cg * v);
      LUT_B[v] = f(cb * v);
    }
  })();

  // D (16 x 64): float32(float32(sqrt(2/64)) * cos(pi/2/64 * (i+1) * (2j+1))), as the C core.
  var DCT = new Float32Array(16 * 64);
  (function () {
    var scale = f(Math.sqrt(2.0 / 64.0));
    for (var i = 0; i < 16; i++) {
      for (var j = 0; j < 64; j++) {
        DCT[i * 64 + j] = f(scale * Math.cos((Math.PI / 2.0 / 64.0) * (i + 1) * (2 * j + 1)));
      }
    }
  })();

  /** Luma of one pixel: (0.299f r + 0.587f g) + 0.114f b, rounded to float32 at each step. */
  function luma(r, g, b) {
    return f(f(LUT_R[r] + LUT_G[g]) + LUT_B[b]);
  }

  /**
   * A rectangle of an RGBA (or RGB) buffer, seen turned by one of the 8 dihedral turns.
   * spec = {swap, flipRows, flipCols}: turned = swap(flip(pixels)), as _regions.turn.
   */
  var TURNS = {
    original: [false, false, false],
    rotate90: [true, false, true],
    rotate180: [false, true, true],
    rotate270: [true, true, false],
    flipx: [false, true, false],
    flipy: [false, false, true],
    flipplus1: [true, false, false],
    flipminus1: [true, true, true]
  };
  var DIHEDRALS = ['original', 'rotate90', 'rotate180', 'rotate270', 'flipx', 'flipy',
    'flipplus1', 'flipminus1'];

  /**
   * The float32 luma PDQ hashes for a region: img = {data, width, height, channels}
   * (channels 4 for RGBA, 3 for RGB), box = [left, top, right, bottom] (default: all),
   * turn = a dihedral name (default "original"). Above 512 on a side (after turning)
   * the region is gathered to exactly 512x512 with floor(i * n / 512), as the reference.
   * With resample false, the region is used at its size (vPDQ frames).
   * Returns {luma: Float32Array, rows, cols}.
   */
  function regionLuma(img, box, turn, resample) {
    var spec = TURNS[turn || 'original'];
    var left = box ? box[0] : 0, top = box ? box[1] : 0;
    var rw = box ? box[2] - box[0] : img.width, rh = box ? box[3] - box[1] : img.height;
    var swap = spec[0], flipRows = spec[1], flipCols = spec[2];
    var tRows = swap ? rw : rh, tCols = swap ? rh : rw;
    var big = resample !== false && (tRows > SIDE || tCols > SIDE);
    var rows = big ? SIDE : tRows, cols = big ? SIDE : tCols;
    // For each output row / column: the turned image's row / column index.
    var pickR = new Int32Array(rows), pickC = new Int32Array(cols);
    for (var i = 0; i < rows; i++) pickR[i] = big ? Math.floor((i * tRows) / SIDE) : i;
    for (var j = 0; j < cols; j++) pickC[j] = big ? Math.floor((j * tCols) / SIDE) : j;
    // Map turned (r, c) to the region's (y, x): unswap, then unflip.
    var ch = img.channels || 4, stride = img.width * ch, data = img.data;
    var out = new Float32Array(rows * cols);
    var rowOff = new Int32Array(Math.max(rows, cols)), colOff = new Int32Array(Math.max(rows, cols));
    // srcY depends on r (no swap) or c (swap); srcX on c (no swap) or r (swap).
    var n, y, x;
    for (n = 0; n < rows; n++) {
      if (!swap) { y = flipRows ? rh - 1 - pickR[n] : pickR[n]; rowOff[n] = (top + y) * stride; }
      else { x = flipCols ? rw - 1 - pickR[n] : pickR[n]; rowOff[n] = (left + x) * ch; }
    }
    for (n = 0; n < cols; n++) {
      if (!swap) { x = flipCols ? rw - 1 - pickC[n] : pickC[n]; colOff[n] = (left + x) * ch; }
      else { y = flipRows ? rh - 1 - pickC[n] : pickC[n]; colOff[n] = (top + y) * stride; }
    }
    var o = 0;
    for (var r = 0; r < rows; r++) {
      var ro = rowOff[r];
      for (var c = 0; c < cols; c++) {
        var p = ro + colOff[c];
        out[o++] = luma(data[p], data[p + 1], data[p + 2]);
      }
    }
    return { luma: out, rows: rows, cols: cols };
  }

  /** One centred 1-D box filter (the reference's box1DFloat) along n values at `stride`. */
  function box1d(src, srcOff, dst, dstOff, n, stride, w) {
    var half = (w + 2) >> 1;
    var p1 = half - 1, p2 = w - half + 1, p3 = n - w, p4 = half - 1;
    var sum = 0, cur = 0, ri = srcOff, li = srcOff, oi = dstOff, k;
    for (k = 0; k < p1; k++) { sum = f(sum + src[ri]); ri += stride; cur++; }
    for (k = 0; k < p2; k++) {
      sum = f(sum + src[ri]); ri += stride; cur++;
      dst[oi] = f(sum / cur); oi += stride;
    }
    for (k = 0; k < p3; k++) {
      sum = f(sum + src[ri]); ri += stride;
      sum = f(sum - src[li]); li += stride;
      dst[oi] = f(sum / cur); oi += stride;
    }
    for (k = 0; k < p4; k++) {
      sum = f(sum - src[li]); li += stride; cur--;
      dst[oi] = f(sum / cur); oi += stride;
    }
  }

  function jaroszWindow(dim) { return Math.floor((dim + 2 * 64 - 1) / (2 * 64)); }

  /** Two passes of {box along rows, box down columns}; the result is left in a. */
  function jarosz(a, b, rows, cols) {
    var wRows = jaroszWindow(cols), wCols = jaroszWindow(rows), r, c;
    for (var pass = 0; pass < 2; pass++) {
      for (r = 0; r < rows; r++) box1d(a, r * cols, b, r * cols, cols, 1, wRows);
      for (c = 0; c < cols; c++) box1d(b, c, a, c, rows, cols, wCols);
    }
  }

  function quality(m) {
    var sum = 0, i, j, d;
    for (i = 0; i < 63; i++) {
      for (j = 0; j < 64; j++) {
        d = Math.trunc(f(f(f(m[i * 64 + j] - m[(i + 1) * 64 + j]) * 100) / 255));
        sum += Math.abs(d);
      }
    }
    for (i = 0; i < 64; i++) {
      for (j = 0; j < 63; j++) {
        d = Math.trunc(f(f(f(m[i * 64 + j] - m[i * 64 + j + 1]) * 100) / 255));
        sum += Math.abs(d);
      }
    }
    var q = Math.floor(sum / 90);
    return q > 100 ? 100 : q;
  }

  /** B = D A D^T (16 x 16), each sum accumulated in k order like the reference. */
  function dct64to16(a) {
    var t = new Float32Array(16 * 64), out = new Float32Array(256), i, j, k;
    for (i = 0; i < 16; i++) {
      for (k = 0; k < 64; k++) {
        var d = DCT[i * 64 + k];
        for (j = 0; j < 64; j++) t[i * 64 + j] = f(t[i * 64 + j] + f(d * a[k * 64 + j]));
      }
    }
    for (i = 0; i < 16; i++) {
      for (k = 0; k < 64; k++) {
        var tv = t[i * 64 + k];
        for (j = 0; j < 16; j++) out[i * 16 + j] = f(out[i * 16 + j] + f(tv * DCT[j * 64 + k]));
      }
    }
    return out;
  }

  /** {dct: Float32Array(256) | null, quality} of a float32 luma buffer (overwritten). */
  function dctFromLuma(lumaBuf, rows, cols) {
    if (rows < MIN_SIDE || cols < MIN_SIDE) return { dct: null, quality: 0 };
    var m = new Float32Array(64 * 64), i, j;
    if (rows === 64 && cols === 64) {
      m.set(lumaBuf);
    } else {
      jarosz(lumaBuf, new Float32Array(rows * cols), rows, cols);
      for (i = 0; i < 64; i++) {
        var ii = Math.floor(((i + 0.5) * rows) / 64);
        for (j = 0; j < 64; j++) {
          var jj = Math.floor(((j + 0.5) * cols) / 64);
          m[i * 64 + j] = lumaBuf[ii * cols + jj];
        }
      }
    }
    return { dct: dct64to16(m), quality: quality(m) };
  }

  var HEX = '0123456789abcdef';
  var ZERO_HASH = new Array(65).join('0');

  /** Threshold at the 128th smallest value; bit 16i+j -> 64 hex digits (Meta's order). */
  function hashFromDct(dct) {
    if (!dct) return ZERO_HASH;
    var sorted = Float32Array.from(dct).sort();
    var median = sorted[127];
    var bytes = new Uint8Array(32);
    for (var k = 0; k < 256; k++) {
      if (dct[k] > median) bytes[31 - (k >> 3)] |= 1 << (k & 7);
    }
    var s = '';
    for (var b = 0; b < 32; b++) s += HEX[bytes[b] >> 4] + HEX[bytes[b] & 15];
    return s;
  }

  /** The DCT of the image after a dihedral turn, from the original's DCT (no re-hashing). */
  function dihedralDct(dct, name) {
    var out = new Float32Array(256), i, j, v;
    for (i = 0; i < 16; i++) {
      for (j = 0; j < 16; j++) {
        var odd = ((i + j) & 1) === 1;
        switch (name) {
          case 'original': v = dct[i * 16 + j]; break;
          case 'rotate90': v = (i & 1) === 0 ? -dct[j * 16 + i] : dct[j * 16 + i]; break;
          case 'rotate180': v = odd ? -dct[i * 16 + j] : dct[i * 16 + j]; break;
          case 'rotate270': v = (j & 1) === 0 ? -dct[j * 16 + i] : dct[j * 16 + i]; break;
          case 'flipx': v = (i & 1) === 0 ? -dct[i * 16 + j] : dct[i * 16 + j]; break;
          case 'flipy': v = (j & 1) === 0 ? -dct[i * 16 + j] : dct[i * 16 + j]; break;
          case 'flipplus1': v = dct[j * 16 + i]; break;
          case 'flipminus1': v = odd ? -dct[j * 16 + i] : dct[j * 16 + i]; break;
          default: throw new Error('unknown dihedral ' + name);
        }
        out[i * 16 + j] = v;
      }
    }
    return out;
  }

  /** PDQ of a region: {hash, quality, dct}. See regionLuma for the arguments. */
  function pdqRegion(img, box, turn, resample) {
    var l = regionLuma(img, box, turn, resample);
    var r = dctFromLuma(l.luma, l.rows, l.cols);
    return { hash: hashFromDct(r.dct), quality: r.quality, dct: r.dct };
  }

  /** PDQ of a whole image as the reference pipeline computes it, plus its 8 dihedral hashes. */
  function pdqWithDihedrals(img) {
    var r = pdqRegion(img, null, 'original', true);
    var dihedral = {};
    for (var n = 0; n < DIHEDRALS.length; n++) {
      dihedral[DIHEDRALS[n]] = r.dct ? hashFromDct(dihedralDct(r.dct, DIHEDRALS[n])) : ZERO_HASH;
    }
    return { hash: r.hash, quality: r.quality, dihedral: dihedral };
  }

  /** Hamming distance of two 64-hex-digit hashes. */
  function distance(a, b) {
    var d = 0;
    for (var i = 0; i < 64; i++) {
      var x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
      while (x) { d += x & 1; x >>= 1; }
    }
    return d;
  }

  root.StopSpreadPDQ = {
    DIHEDRALS: DIHEDRALS,
    SIDE: SIDE,
    ZERO_HASH: ZERO_HASH,
    luma: luma,
    regionLuma: regionLuma,
    dctFromLuma: dctFromLuma,
    hashFromDct: hashFromDct,
    dihedralDct: dihedralDct,
    pdqRegion: pdqRegion,
    pdqWithDihedrals: pdqWithDihedrals,
    distance: distance
  };
})(self);
