/*
 * Streaming MD5 and SHA-256 of file bytes, in plain JavaScript (classic script,
 * defines self.StopSpreadDigest). MD5 is what StopNCII-style systems share for exact
 * copies; SHA-256 is for the survivor's own receipt. Both take the bytes chunk by
 * chunk, so a large video is never held in memory whole. (The worker uses
 * crypto.subtle.digest for SHA-256 when the file is small enough to read at once.)
 */
(function (root) {
  'use strict';

  var HEX = '0123456789abcdef';

  // ---- MD5 (RFC 1321) ----

  var MD5_S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
  var MD5_K = new Int32Array(64);
  for (var i = 0; i < 64; i++) MD5_K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;

  /** A running MD5: update(Uint8Array) any number of times, then hex(). */
  function Md5() {
    this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.length = 0; // bytes
    this.words = new Int32Array(16);
  }

  Md5.prototype.block = function (bytes, off) {
    var w = this.words, h = this.h, j;
    for (j = 0; j < 16; j++) {
      var p = off + j * 4;
      w[j] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    var a = h[0], b = h[1], c = h[2], d = h[3];
    for (j = 0; j < 64; j++) {
      var fv, g;
      if (j < 16) { fv = (b & c) | (~b & d); g = j; }
      else if (j < 32) { fv = (d & b) | (~d & c); g = (5 * j + 1) & 15; }
      else if (j < 48) { fv = b ^ c ^ d; g = (3 * j + 5) & 15; }
      else { fv = c ^ (b | ~d); g = (7 * j) & 15; }
      var t = d;
      d = c;
      c = b;
      var x = (a + fv + MD5_K[j] + w[g]) | 0;
      b = (b + ((x << MD5_S[j]) | (x >>> (32 - MD5_S[j])))) | 0;
      a = t;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  };

  function update(self, bytes) {
    var off = 0, n = bytes.length;
    self.length += n;
    if (self.bufLen > 0) {
      var take = Math.min(64 - self.bufLen, n);
      self.buf.set(bytes.subarray(0, take), self.bufLen);
      self.bufLen += take;
      off = take;
      if (self.bufLen < 64) return;
      self.block(self.buf, 0);
      self.bufLen = 0;
    }
    for (; off + 64 <= n; off += 64) self.block(bytes, off);
    if (off < n) { self.buf.set(bytes.subarray(off), 0); self.bufLen = n - off; }
  }

  /** The 64-byte padding block(s) and the bit length, little- or big-endian. */
  function padding(length, littleEndian) {
    var rest = length % 64, padLen = rest < 56 ? 56 - rest : 120 - rest;
    var pad = new Uint8Array(padLen + 8);
    pad[0] = 0x80;
    var bitsLo = (length * 8) >>> 0, bitsHi = Math.floor(length / 0x20000000) >>> 0;
    for (var k = 0; k < 4; k++) {
      if (littleEndian) {
        pad[padLen + k] = (bitsLo >>> (8 * k)) & 255;
        pad[padLen + 4 + k] = (bitsHi >>> (8 * k)) & 255;
      } else {
        pad[padLen + 7 - k] = (bitsLo >>> (8 * k)) & 255;
        pad[padLen + 3 - k] = (bitsHi >>> (8 * k)) & 255;
      }
    }
    return pad;
  }

  Md5.prototype.update = function (bytes) { update(this, bytes); return this; };
  Md5.prototype.hex = function () {
    var length = this.length;
    update(this, padding(length, true));
    var s = '';
    for (var j = 0; j < 16; j++) {
      var v = this.h[j >> 2] >>> (8 * (j & 3));
      s += HEX[(v >> 4) & 15] + HEX[v & 15];
    }
    return s;
  };

  // ---- SHA-256 (FIPS 180-4) ----

  var SHA_K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  /** A running SHA-256: update(Uint8Array) any number of times, then hex(). */
  function Sha256() {
    this.h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.length = 0;
    this.words = new Int32Array(64);
  }

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  Sha256.prototype.block = function (bytes, off) {
    var w = this.words, h = this.h, j;
    for (j = 0; j < 16; j++) {
      var p = off + j * 4;
      w[j] = (bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
    }
    for (j = 16; j < 64; j++) {
      var a15 = w[j - 15], a2 = w[j - 2];
      var s0 = rotr(a15, 7) ^ rotr(a15, 18) ^ (a15 >>> 3);
      var s1 = rotr(a2, 17) ^ rotr(a2, 19) ^ (a2 >>> 10);
      w[j] = (w[j - 16] + s0 + w[j - 7] + s1) | 0;
    }
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (j = 0; j < 64; j++) {
      var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[j] + w[j]) | 0;
      var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  };

  Sha256.prototype.update = function (bytes) { update(this, bytes); return this; };
  Sha256.prototype.hex = function () {
    update(this, padding(this.length, false));
    var s = '';
    for (var j = 0; j < 32; j++) {
      var v = this.h[j >> 2] >>> (24 - 8 * (j & 3));
      s += HEX[(v >> 4) & 15] + HEX[v & 15];
    }
    return s;
  };

  function toHex(buffer) {
    var bytes = new Uint8Array(buffer), s = '';
    for (var j = 0; j < bytes.length; j++) s += HEX[bytes[j] >> 4] + HEX[bytes[j] & 15];
    return s;
  }

  root.StopSpreadDigest = { Md5: Md5, Sha256: Sha256, toHex: toHex };
})(self);
