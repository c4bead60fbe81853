/*
 * The numeric core of PDQ: RGB -> float luma -> Jarosz tent filter -> 64x64
 * decimation -> quality -> 16x16 DCT.
 *
 * Every floating-point operation is done in float32, in the same order as
 * Meta's reference C++ (pdqhashing.cpp / downscaling.cpp), so the same pixels
 * give bit-identical DCT values and therefore identical hashes.  The loops are
 * arranged so that the compiler can vectorise across independent rows or
 * columns without reassociating any single sum (build with -ffp-contract=off:
 * a fused multiply-add would round differently from the reference).
 *
 * The GIL is released while computing, so threads hash in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DCT_ROWS 16
#define DCT_COLS 64
#define MIN_HASHABLE_DIM 5

static float dct_matrix[DCT_ROWS][DCT_COLS];  /* D, 16 x 64 */
static float dct_matrix_t[DCT_COLS][DCT_ROWS]; /* D transposed, 64 x 16 */

static void init_dct_matrix(void) {
    const double pi = 3.14159265358979323846;
    const float scale = (float)sqrt(2.0 / 64.0);
    for (int i = 0; i < DCT_ROWS; i++) {
        for (int j = 0; j < DCT_COLS; j++) {
            /* float scale times a double cosine, rounded once to float, as in the reference */
            float v = (float)((double)scale * cos((pi / 2.0 / 64.0) * (double)(i + 1) * (double)(2 * j + 1)));
            dct_matrix[i][j] = v;
            dct_matrix_t[j][i] = v;
        }
    }
}

static int jarosz_window(int old_dim) { return (old_dim + 2 * 64 - 1) / (2 * 64); }

/* Centred box filter down every column at once (vectors of length rows,
 * stride cols); the per-element operation sequence is the reference's
 * box1DFloat, applied to all columns side by side. */
static void box_down_columns(const float *restrict in, float *restrict out, int rows, int cols,
                             int window, float *restrict sum) {
    int half = (window + 2) / 2;
    int p1 = half - 1, p2 = window - half + 1, p3 = rows - window, p4 = half - 1;
    int ri = 0, li = 0, oi = 0, current = 0;
    memset(sum, 0, sizeof(float) * (size_t)cols);
    for (int n = 0; n < p1; n++, ri++) {
        const float *r = in + (size_t)ri * cols;
        for (int j = 0; j < cols; j++) sum[j] += r[j];
        current++;
    }
    for (int n = 0; n < p2; n++, ri++, oi++) {
        const float *r = in + (size_t)ri * cols;
        float *o = out + (size_t)oi * cols;
        current++;
        float c = (float)current;
        for (int j = 0; j < cols; j++) { sum[j] += r[j]; o[j] = sum[j] / c; }
    }
    {
        float c = (float)current;
        for (int n = 0; n < p3; n++, ri++, li++, oi++) {
            const float *r = in + (size_t)ri * cols;
            const float *l = in + (size_t)li * cols;
            float *o = out + (size_t)oi * cols;
            for (int j = 0; j < cols; j++) {
                sum[j] += r[j];
                sum[j] -= l[j];
                o[j] = sum[j] / c;
            }
        }
    }
    for (int n = 0; n < p4; n++, li++, oi++) {
        const float *l = in + (size_t)li * cols;
        float *o = out + (size_t)oi * cols;
        current--;
        float c = (float)current;
        for (int j = 0; j < cols; j++) { sum[j] -= l[j]; o[j] = sum[j] / c; }
    }
}

/* Box filter along NR rows at once (rows at stride `cols`). Each row's running
 * sum follows the reference's box1DFloat exactly; the rows only share loop
 * control. With SSE2, the full-window phase handles 4 rows x 4 columns per step
 * through two in-register 4x4 transposes (lane-wise IEEE add/sub/div, so the
 * results are bit-identical to the scalar code). */
static void box_rows_scalar(const float *in, float *out, int nr, int cols, int window) {
    int half = (window + 2) / 2;
    int p1 = half - 1, p2 = window - half + 1, p3 = cols - window, p4 = half - 1;
    for (int r = 0; r < nr; r++) {
        const float *x = in + (size_t)r * cols;
        float *o = out + (size_t)r * cols;
        float sum = 0.0f;
        int current = 0, ri = 0, li = 0, oi = 0;
        for (int n = 0; n < p1; n++) { sum += x[ri++]; current++; }
        for (int n = 0; n < p2; n++) { sum += x[ri++]; current++; o[oi++] = sum / (float)current; }
        for (int n = 0; n < p3; n++) {
            sum += x[ri++];
            sum -= x[li++];
            o[oi++] = sum / (float)current;
        }
        for (int n = 0; n < p4; n++) { sum -= x[li++]; current--; o[oi++] = sum / (float)current; }
    }
}

#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>

static void box_rows4_sse(const float *in, float *out, int cols, int window) {
    int half = (window + 2) / 2;
    int p1 = half - 1, p2 = window - half + 1, p3 = cols - window, p4 = half - 1;
    const float *x[4] = {in, in + cols, in + 2 * (size_t)cols, in + 3 * (size_t)cols};
    float *o[4] = {out, out + cols, out + 2 * (size_t)cols, out + 3 * (size_t)cols};
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int current = 0, ri = 0, li = 0, oi = 0;
    for (int n = 0; n < p1; n++, ri++) {
        current++;
        for (int r = 0; r < 4; r++) s[r] += x[r][ri];
    }
    for (int n = 0; n < p2; n++, ri++, oi++) {
        current++;
        for (int r = 0; r < 4; r++) { s[r] += x[r][ri]; o[r][oi] = s[r] / (float)current; }
    }
    __m128 sv = _mm_loadu_ps(s), cv = _mm_set1_ps((float)current);
    int n = 0;
    for (; n + 4 <= p3; n += 4) {
        __m128 a0 = _mm_loadu_ps(x[0] + ri + n), a1 = _mm_loadu_ps(x[1] + ri + n);
        __m128 a2 = _mm_loadu_ps(x[2] + ri + n), a3 = _mm_loadu_ps(x[3] + ri + n);
        __m128 b0 = _mm_loadu_ps(x[0] + li + n), b1 = _mm_loadu_ps(x[1] + li + n);
        __m128 b2 = _mm_loadu_ps(x[2] + li + n), b3 = _mm_loadu_ps(x[3] + li + n);
        _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
        _MM_TRANSPOSE4_PS(b0, b1, b2, b3);
        sv = _mm_sub_ps(_mm_add_ps(sv, a0), b0);
        __m128 o0 = _mm_div_ps(sv, cv);
        sv = _mm_sub_ps(_mm_add_ps(sv, a1), b1);
        __m128 o1 = _mm_div_ps(sv, cv);
        sv = _mm_sub_ps(_mm_add_ps(sv, a2), b2);
        __m128 o2 = _mm_div_ps(sv, cv);
        sv = _mm_sub_ps(_mm_add_ps(sv, a3), b3);
        __m128 o3 = _mm_div_ps(sv, cv);
        _MM_TRANSPOSE4_PS(o0, o1, o2, o3);
        _mm_storeu_ps(o[0] + oi + n, o0);
        _mm_storeu_ps(o[1] + oi + n, o1);
        _mm_storeu_ps(o[2] + oi + n, o2);
        _mm_storeu_ps(o[3] + oi + n, o3);
    }
    _mm_storeu_ps(s, sv);
    for (; n < p3; n++) {
        for (int r = 0; r < 4; r++) {
            s[r] += x[r][ri + n];
            s[r] -= x[r][li + n];
            o[r][oi + n] = s[r] / (float)current;
        }
    }
    li += p3;
    oi += p3;
    for (int k = 0; k < p4; k++, li++, oi++) {
        current--;
        for (int r = 0; r < 4; r++) { s[r] -= x[r][li]; o[r][oi] = s[r] / (float)current; }
    }
}
#endif

static void box_along_rows(const float *restrict in, float *restrict out, int rows, int cols,
                           int window) {
    int r = 0;
#ifdef __SSE2__
    for (; r + 4 <= rows; r += 4)
        box_rows4_sse(in + (size_t)r * cols, out + (size_t)r * cols, cols, window);
#endif
    box_rows_scalar(in + (size_t)r * cols, out + (size_t)r * cols, rows - r, cols, window);
}

/* Two passes of {box along rows, box along columns}; result in a.
 * sum holds max(rows, cols) floats. */
static void jarosz(float *a, float *b, int rows, int cols, float *sum) {
    int w_rows = jarosz_window(cols); /* window along each row */
    int w_cols = jarosz_window(rows); /* window along each column */
    for (int pass = 0; pass < 2; pass++) {
        box_along_rows(a, b, rows, cols, w_rows);
        box_down_columns(b, a, rows, cols, w_cols, sum);
    }
}

static int quality_metric(float m[64][64]) {
    int gradient_sum = 0;
    for (int i = 0; i < 63; i++)
        for (int j = 0; j < 64; j++) {
            int d = (int)(((m[i][j] - m[i + 1][j]) * 100.0f) / 255.0f);
            gradient_sum += abs(d);
        }
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 63; j++) {
            int d = (int)(((m[i][j] - m[i][j + 1]) * 100.0f) / 255.0f);
            gradient_sum += abs(d);
        }
    int q = gradient_sum / 90;
    return q > 100 ? 100 : q;
}

/* B = D A D^T, each sum accumulated in k order like the reference. */
static void dct64_to_16(float a[64][64], float out[16][16]) {
    float t[16][64];
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 64; j++) t[i][j] = 0.0f;
        for (int k = 0; k < 64; k++) {
            float d = dct_matrix[i][k];
            for (int j = 0; j < 64; j++) t[i][j] += d * a[k][j];
        }
    }
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16; j++) out[i][j] = 0.0f;
        for (int k = 0; k < 64; k++) {
            float tv = t[i][k];
            for (int j = 0; j < 16; j++) out[i][j] += tv * dct_matrix_t[k][j];
        }
    }
}

/* Working memory. Each thread keeps its buffers for images up to CACHE_FLOATS
 * floats (a 1024x1024 image), so repeated hashing does not fault in fresh pages
 * on every call; larger inputs allocate and free per call. */
#define CACHE_FLOATS ((size_t)1 << 20)
typedef struct { float *ptr; size_t cap; } buffer_t;
static __thread buffer_t cached[2];

static float *take(int slot, size_t n) {
    if (n > CACHE_FLOATS) return malloc(sizeof(float) * n);
    buffer_t *c = &cached[slot];
    if (c->cap < n) {
        float *p = realloc(c->ptr, sizeof(float) * n);
        if (p == NULL) return NULL;
        c->ptr = p;
        c->cap = n;
    }
    return c->ptr;
}

static void give_back(float *p, size_t n) {
    if (n > CACHE_FLOATS) free(p);
}

/* Blur, decimate, quality and DCT of a float luma buffer `a` (rows x cols,
 * overwritten). Returns 0 on success, -1 when out of memory. */
static int pdq_from_luma(float *a, int rows, int cols, float out[16][16], int *quality) {
    float m64[64][64];
    if (rows == 64 && cols == 64) {
        memcpy(m64, a, sizeof(m64));
    } else {
        size_t n = (size_t)rows * (size_t)cols;
        size_t need = n + (size_t)(rows > cols ? rows : cols);
        float *b = take(1, need);
        if (b == NULL) return -1;
        jarosz(a, b, rows, cols, b + n);
        give_back(b, need);
        for (int i = 0; i < 64; i++) {
            int ii = (int)(((i + 0.5) * rows) / 64);
            for (int j = 0; j < 64; j++) {
                int jj = (int)(((j + 0.5) * cols) / 64);
                m64[i][j] = a[(size_t)ii * cols + jj];
            }
        }
    }
    *quality = quality_metric(m64);
    dct64_to_16(m64, out);
    return 0;
}

/* Each coefficient times each byte value, rounded to float exactly as the
 * reference's `0.299f * r` is; the sums below then add in the reference's order. */
static float lut_r[256], lut_g[256], lut_b[256];

static void init_luma_tables(void) {
    const float cr = 0.299f, cg = 0.587f, cb = 0.114f;
    for (int v = 0; v < 256; v++) {
        lut_r[v] = cr * (float)v;
        lut_g[v] = cg * (float)v;
        lut_b[v] = cb * (float)v;
    }
}

/* Luma as the reference computes it: (0.299f r + 0.587f g) + 0.114f b in float. */
static void luma_from_pixels(const uint8_t *px, int rows, int cols, int channels, float *a) {
    size_t row_stride = (size_t)cols * (size_t)channels;
    for (int i = 0; i < rows; i++) {
        const uint8_t *p = px + (size_t)i * row_stride;
        float *o = a + (size_t)i * cols;
        if (channels == 1) {
            for (int j = 0; j < cols; j++) o[j] = (float)p[j];
        } else {
            for (int j = 0; j < cols; j++) {
                const uint8_t *q = p + (size_t)j * 3;
                o[j] = lut_r[q[0]] + lut_g[q[1]] + lut_b[q[2]];
            }
        }
    }
}

/* Nearest-neighbour resample to side x side fused with luma, as the reference's
 * pre-downsample does: output (i, j) takes source (floor(i*rows/side), floor(j*cols/side)). */
static void luma_resampled(const uint8_t *px, int rows, int cols, int channels, int side,
                           float *a, int *col_offset) {
    size_t row_stride = (size_t)cols * (size_t)channels;
    for (int j = 0; j < side; j++)
        col_offset[j] = (int)(((int64_t)j * cols) / side) * channels;
    for (int i = 0; i < side; i++) {
        const uint8_t *p = px + (size_t)(((int64_t)i * rows) / side) * row_stride;
        float *o = a + (size_t)i * side;
        if (channels == 1) {
            for (int j = 0; j < side; j++) o[j] = (float)p[col_offset[j]];
        } else {
            for (int j = 0; j < side; j++) {
                const uint8_t *q = p + col_offset[j];
                o[j] = lut_r[q[0]] + lut_g[q[1]] + lut_b[q[2]];
            }
        }
    }
}

static int too_small(int rows, int cols, float out[16][16], int *quality) {
    if (rows >= MIN_HASHABLE_DIM && cols >= MIN_HASHABLE_DIM) return 0;
    memset(out, 0, sizeof(float) * 256);
    *quality = 0;
    return 1;
}

static PyObject *result(float out[16][16], int quality, int rc) {
    if (rc != 0) return PyErr_NoMemory();
    return Py_BuildValue("(y#i)", (const char *)out, (Py_ssize_t)(sizeof(float) * 256), quality);
}

PyDoc_STRVAR(dct16_doc,
"dct16(pixels, rows, cols, channels, side=0) -> (bytes, int)\n\n"
"PDQ's 16x16 DCT (256 float32, row-major, native byte order) and quality for\n"
"a C-contiguous uint8 buffer of rows x cols x channels (channels 3 = RGB, 1 = luma).\n"
"With side > 0, an image larger than side x side on either axis is first resampled\n"
"to exactly side x side by nearest neighbour (floor(x * W / side)), like the reference.");

static PyObject *py_dct16(PyObject *self, PyObject *args) {
    Py_buffer view;
    int rows, cols, channels, side = 0;
    if (!PyArg_ParseTuple(args, "y*iii|i", &view, &rows, &cols, &channels, &side)) return NULL;
    if (rows < 0 || cols < 0 || side < 0 || (channels != 1 && channels != 3) ||
        view.len != (Py_ssize_t)rows * cols * channels) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "buffer size does not match rows x cols x channels");
        return NULL;
    }
    int resample = side > 0 && (rows > side || cols > side);
    int h = resample ? side : rows, w = resample ? side : cols;
    float out[16][16];
    int quality = 0, rc = 0;
    if (!too_small(h, w, out, &quality)) {
        Py_BEGIN_ALLOW_THREADS
        size_t n = (size_t)h * (size_t)w;
        float *a = take(0, n);
        int *col_offset = resample ? malloc(sizeof(int) * (size_t)side) : NULL;
        if (a == NULL || (resample && col_offset == NULL)) {
            rc = -1;
        } else {
            const uint8_t *px = (const uint8_t *)view.buf;
            if (resample)
                luma_resampled(px, rows, cols, channels, side, a, col_offset);
            else
                luma_from_pixels(px, rows, cols, channels, a);
            rc = pdq_from_luma(a, h, w, out, &quality);
        }
        if (a != NULL) give_back(a, n);
        free(col_offset);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&view);
    return result(out, quality, rc);
}

PyDoc_STRVAR(dct16_luma_doc,
"dct16_luma(luma, rows, cols) -> (bytes, int)\n\n"
"Like dct16, from a C-contiguous float32 luma buffer of rows x cols.");

static PyObject *py_dct16_luma(PyObject *self, PyObject *args) {
    Py_buffer view;
    int rows, cols;
    if (!PyArg_ParseTuple(args, "y*ii", &view, &rows, &cols)) return NULL;
    if (rows < 0 || cols < 0 || view.len != (Py_ssize_t)rows * cols * (Py_ssize_t)sizeof(float)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "buffer size does not match rows x cols float32");
        return NULL;
    }
    float out[16][16];
    int quality = 0, rc = 0;
    if (!too_small(rows, cols, out, &quality)) {
        Py_BEGIN_ALLOW_THREADS
        size_t n = (size_t)rows * (size_t)cols;
        float *a = take(0, n);
        if (a == NULL) {
            rc = -1;
        } else {
            memcpy(a, view.buf, sizeof(float) * n);
            rc = pdq_from_luma(a, rows, cols, out, &quality);
            give_back(a, n);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&view);
    return result(out, quality, rc);
}

static PyMethodDef methods[] = {
    {"dct16", py_dct16, METH_VARARGS, dct16_doc},
    {"dct16_luma", py_dct16_luma, METH_VARARGS, dct16_luma_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pdqcore", "PDQ numeric core (bit-exact with Meta's C++).", -1, methods,
};

PyMODINIT_FUNC PyInit__pdqcore(void) {
    init_dct_matrix();
    init_luma_tables();
    return PyModule_Create(&module);
}
