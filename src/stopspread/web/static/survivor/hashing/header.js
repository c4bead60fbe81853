/*
 * What the worker reads from an image file's first bytes before decoding it.
 *
 * Size: the width and height from the header (JPEG SOF, PNG IHDR, GIF, WebP, BMP), so that
 * a decompression bomb is refused before the browser allocates its pixels, as the server's
 * DecodeLimits does from Pillow's header parse.
 *
 * Orientation: Chromium applies a photo's EXIF orientation in createImageBitmap even when asked not
 * to (imageOrientation: "none" is not honoured for Blobs). The reference pipeline, the
 * Python one and StopNCII's hash the pixels as stored, so before decoding we give the
 * browser a copy of the file whose orientation tag says 1 ("as stored"): the tag is
 * rewritten in place in the file's first bytes (JPEG APP1 Exif, WebP EXIF chunk, PNG
 * eXIf chunk with its CRC recomputed); the pixel data is not touched or copied.
 * A classic script: defines self.StopSpreadHeader.
 */
(function (root) {
  'use strict';

  var HEAD_BYTES = 256 * 1024; // Exif blocks sit in the first few kilobytes
  var ORIENTATION = 0x0112;

  function ascii(b, from, to) {
    var s = '';
    for (var i = from; i < to && i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }

  /** Set the orientation tag of the TIFF block at b[start, end) to 1; true if it changed. */
  function fixTiff(b, start, end) {
    if (end - start < 8) return false;
    var le = b[start] === 0x49;
    function u16(p) { return le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]; }
    function u32(p) { return le ? (u16(p) | (u16(p + 2) << 16)) >>> 0 : ((u16(p) << 16) | u16(p + 2)) >>> 0; }
    var ifd = start + u32(start + 4);
    if (ifd + 2 > end) return false;
    var n = u16(ifd);
    for (var i = 0; i < n; i++) {
      var e = ifd + 2 + 12 * i;
      if (e + 12 > end) return false;
      if (u16(e) === ORIENTATION && u16(e + 2) === 3 && u16(e + 8) !== 1) {
        b[e + 8] = le ? 1 : 0;
        b[e + 9] = le ? 0 : 1;
        return true;
      }
    }
    return false;
  }

  function tiffStart(b, p, end) { // an Exif block may start with "Exif\0\0"
    return ascii(b, p, p + 4) === 'Exif' && end - p > 6 ? p + 6 : p;
  }

  function fixJpeg(b) {
    var p = 2, changed = false;
    while (p + 4 <= b.length && b[p] === 0xff) {
      var marker = b[p + 1];
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; }
      if (marker === 0xff) { p += 1; continue; }
      if (marker === 0xda || marker === 0xd9) break;
      var end = p + 2 + ((b[p + 2] << 8) | b[p + 3]);
      if (end > b.length) break;
      if (marker === 0xe1 && ascii(b, p + 4, p + 8) === 'Exif') changed = fixTiff(b, p + 10, end) || changed;
      p = end;
    }
    return changed;
  }

  function fixWebp(b) {
    var p = 12, changed = false;
    while (p + 8 <= b.length) {
      var size = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
      var end = p + 8 + size;
      if (end > b.length) break;
      if (ascii(b, p, p + 4) === 'EXIF') changed = fixTiff(b, tiffStart(b, p + 8, end), end) || changed;
      p = end + (size & 1);
    }
    return changed;
  }

  var CRC_TABLE = (function () {
    var t = new Int32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c;
    }
    return t;
  })();

  function crc32(b, from, to) {
    var c = -1;
    for (var i = from; i < to; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  }

  function fixPng(b) {
    var p = 8, changed = false;
    while (p + 12 <= b.length) {
      var len = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      var type = ascii(b, p + 4, p + 8), end = p + 8 + len;
      if (end + 4 > b.length || type === 'IDAT') break;
      if (type === 'eXIf' && fixTiff(b, tiffStart(b, p + 8, end), end)) {
        var crc = crc32(b, p + 4, end);
        b[end] = crc >>> 24; b[end + 1] = (crc >>> 16) & 255; b[end + 2] = (crc >>> 8) & 255; b[end + 3] = crc & 255;
        changed = true;
      }
      p = end + 4;
    }
    return changed;
  }

  function u16be(b, p) { return (b[p] << 8) | b[p + 1]; }
  function u16le(b, p) { return b[p] | (b[p + 1] << 8); }
  function u24le(b, p) { return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16); }
  function u32be(b, p) { return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0; }
  function u32le(b, p) { return ((b[p + 3] << 24) | (b[p + 2] << 16) | (b[p + 1] << 8) | b[p]) >>> 0; }

  function jpegSize(b) {
    var p = 2;
    while (p + 9 <= b.length && b[p] === 0xff) {
      var m = b[p + 1];
      if (m === 0xff) { p += 1; continue; }
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { p += 2; continue; }
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return { width: u16be(b, p + 7), height: u16be(b, p + 5) };
      }
      if (m === 0xda || m === 0xd9) return null;
      p += 2 + u16be(b, p + 2);
    }
    return null;
  }

  function webpSize(b) {
    var kind = ascii(b, 12, 16);
    if (kind === 'VP8X' && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    if (kind === 'VP8L' && b.length >= 25) {
      var bits = u32le(b, 21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (kind === 'VP8 ' && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
    return null;
  }

  /** {width, height} from the header, or null when the format or header is not one we read. */
  function imageSize(b) {
    if (b[0] === 0xff && b[1] === 0xd8) return jpegSize(b);
    if (ascii(b, 1, 4) === 'PNG' && ascii(b, 12, 16) === 'IHDR') return { width: u32be(b, 16), height: u32be(b, 20) };
    if (ascii(b, 0, 4) === 'GIF8' && b.length >= 10) return { width: u16le(b, 6), height: u16le(b, 8) };
    if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return webpSize(b);
    if (ascii(b, 0, 2) === 'BM' && b.length >= 26) {
      return { width: Math.abs(u32le(b, 18) | 0), height: Math.abs(u32le(b, 22) | 0) };
    }
    return null;
  }

  /**
   * Read the file's first bytes once: {size: {width, height} | null, blob}, where blob is the
   * file itself or a Blob of the same bytes with the orientation tag set to 1.
   */
  async function inspect(file) {
    var head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
    var size = imageSize(head), changed = false;
    if (head[0] === 0xff && head[1] === 0xd8) changed = fixJpeg(head);
    else if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') changed = fixWebp(head);
    else if (ascii(head, 1, 4) === 'PNG') changed = fixPng(head);
    return { size: size, blob: changed ? new Blob([head, file.slice(head.length)]) : file };
  }

  root.StopSpreadHeader = { inspect: inspect, imageSize: imageSize };
})(self);
