/*
 * The numeric core of the exact Hamming index: multi-index hashing (MIH)
 * over 256-bit hashes, and a linear scan.
 *
 * A hash is read as four native 64-bit words (little-endian on every machine
 * we build for); bit p of the hash is bit (p & 63) of word (p >> 6).  Any fixed
 * bit order keeps Hamming distances, so stored hashes and queries only have to
 * be read the same way.
 *
 * A segment splits the 256 bits into m consecutive chunks of widths w_t.  For
 * each chunk it holds a CSR table: offsets[2^w_t + 1] (uint32) and the row
 * numbers of the hashes whose chunk t equals each key, stored in row_bytes
 * (3 or 4) little-endian bytes.  A query within radius r of a stored hash has,
 * by pigeonhole, some chunk t within r_t of the stored one whenever
 * sum_t (r_t + 1) >= r + 1, so probing every key within r_t of the query's
 * chunk in every table finds every match.  A match is reported only from the
 * first chunk that is within its r_t, so it is reported exactly once.
 *
 * When probing would touch more memory than reading every hash, the segment
 * is scanned linearly instead.  The GIL is released while computing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BYTES 32
#define HASH_BITS 256
#define MAX_CHUNKS 64
#define MIN_WIDTH 1
#define MAX_WIDTH 26          /* an offsets table of 2^26 uint32 is 256 MiB: the cap */
#define PREFETCH_AHEAD 16     /* candidates: keeps that many hash reads in flight */
/* Cost model (units: one random cache miss).  A hash read in a linear scan
 * streams at about a tenth of the cost of a random read. */
#define LINEAR_COST_PER_ROW 0.1

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KERNEL __attribute__((target_clones("popcnt", "default")))
#else
#define KERNEL
#endif
#define INLINE static inline __attribute__((always_inline))

typedef struct {
    int m;
    int start[MAX_CHUNKS];
    int width[MAX_CHUNKS];
    size_t base[MAX_CHUNKS]; /* where table t's offsets begin */
    size_t offsets_len;      /* total uint32 entries */
} layout_t;

typedef struct {
    uint32_t q, row, dist;
} hit_t;

typedef struct {
    hit_t *a;
    size_t n, cap;
    int oom;
} hits_t;

typedef struct {
    const uint64_t *hashes;
    size_t n;
    const uint32_t *offsets;
    const uint8_t *rows;
    int row_bytes;
    const uint8_t *dead; /* packed bits, bit (i & 7) of byte i >> 3; NULL: none */
    const layout_t *L;
} segment_t;

INLINE uint32_t chunk_of(const uint64_t *w, int start, int width) {
    int wi = start >> 6, sh = start & 63;
    uint64_t v = w[wi] >> sh;
    if (sh + width > 64) v |= w[wi + 1] << (64 - sh);
    return (uint32_t)(v & ((1ull << width) - 1));
}

INLINE uint32_t load_row(const uint8_t *p, int rb) {
    uint32_t r = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
    if (rb == 4) r |= (uint32_t)p[3] << 24;
    return r;
}

INLINE void store_row(uint8_t *p, uint32_t r, int rb) {
    p[0] = (uint8_t)r;
    p[1] = (uint8_t)(r >> 8);
    p[2] = (uint8_t)(r >> 16);
    if (rb == 4) p[3] = (uint8_t)(r >> 24);
}

INLINE int is_dead(const uint8_t *dead, uint32_t row) {
    return dead != NULL && ((dead[row >> 3] >> (row & 7)) & 1);
}

INLINE int distance(const uint64_t *a, const uint64_t *b) {
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
           __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

static void push(hits_t *h, uint32_t q, uint32_t row, uint32_t dist) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        hit_t *a = realloc(h->a, cap * sizeof(hit_t));
        if (a == NULL) {
            h->oom = 1;
            return;
        }
        h->a = a;
        h->cap = cap;
    }
    h->a[h->n].q = q;
    h->a[h->n].row = row;
    h->a[h->n].dist = dist;
    h->n++;
}

/* ---- layout -------------------------------------------------------------- */

static int make_layout(const uint8_t *widths, Py_ssize_t m, layout_t *L) {
    if (m < 1 || m > MAX_CHUNKS) return -1;
    int pos = 0;
    size_t base = 0;
    L->m = (int)m;
    for (int t = 0; t < m; t++) {
        int w = widths[t];
        if (w < MIN_WIDTH || w > MAX_WIDTH) return -1;
        L->start[t] = pos;
        L->width[t] = w;
        L->base[t] = base;
        pos += w;
        base += ((size_t)1 << w) + 1;
    }
    if (pos != HASH_BITS) return -1;
    L->offsets_len = base;
    return 0;
}

/* Radius per chunk: sum (r_t + 1) == r + 1, the extra units on the widest
 * chunks (fewest rows per key).  r_t == -1 means the chunk is not probed. */
static void assign_radii(const layout_t *L, int radius, int *rt) {
    int q = (radius + 1) / L->m, extra = (radius + 1) % L->m;
    int order[MAX_CHUNKS];
    for (int t = 0; t < L->m; t++) order[t] = t;
    for (int i = 1; i < L->m; i++) { /* stable insertion sort, widest first */
        int v = order[i], j = i - 1;
        while (j >= 0 && L->width[order[j]] < L->width[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    for (int i = 0; i < L->m; i++) rt[order[i]] = q - 1 + (i < extra ? 1 : 0);
}

static double binomial(int n, int k) {
    double c = 1.0;
    for (int i = 1; i <= k; i++) c = c * (double)(n - k + i) / (double)i;
    return c;
}

/* Expected cache misses of probing, in the same units as a linear scan. */
static int probing_pays(const layout_t *L, const int *rt, size_t n) {
    double cost = 0.0;
    for (int t = 0; t < L->m; t++) {
        if (rt[t] < 0) continue;
        int w = L->width[t];
        double keys = 0.0;
        for (int i = 0; i <= rt[t] && i <= w; i++) keys += binomial(w, i);
        cost += 2.0 * keys + keys * (double)n / (double)((size_t)1 << w);
    }
    return cost < LINEAR_COST_PER_ROW * (double)n;
}

/* ---- kernels ------------------------------------------------------------- */

KERNEL static void scan_linear(const segment_t *s, const uint64_t *q, uint32_t qi, int radius,
                               hits_t *out) {
    for (size_t i = 0; i < s->n; i++) {
        int d = distance(s->hashes + 4 * i, q);
        if (d <= radius && !is_dead(s->dead, (uint32_t)i)) push(out, qi, (uint32_t)i, (uint32_t)d);
    }
}

/* The first chunk within its probe radius: where a match is reported. */
INLINE int first_within(const layout_t *L, const uint64_t *x, const int *rt, int upto) {
    for (int s = 0; s < upto; s++) {
        if (rt[s] >= 0 && __builtin_popcount(chunk_of(x, L->start[s], L->width[s])) <= rt[s])
            return s;
    }
    return upto;
}

/* Per-call scratch, reused across the queries of a batch: the probed keys'
 * row spans and then the candidate rows, each tagged with its chunk. */
typedef struct {
    uint32_t *lo, *hi, *cand;
    uint8_t *span_tag, *cand_tag;
    size_t n_spans, cap_spans, n_cand, cap_cand;
} work_t;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need) cap2 *= 2;
    void *a = realloc(*p, cap2 * elem);
    if (a == NULL) return -1;
    *p = a;
    return 0;
}

static int reserve_spans(work_t *w, size_t need) {
    size_t cap = w->cap_spans;
    if (grow((void **)&w->lo, &cap, need, sizeof(uint32_t)) < 0) return -1;
    cap = w->cap_spans;
    if (grow((void **)&w->hi, &cap, need, sizeof(uint32_t)) < 0) return -1;
    cap = w->cap_spans;
    if (grow((void **)&w->span_tag, &cap, need, 1) < 0) return -1;
    if (need > w->cap_spans) w->cap_spans = cap;
    return 0;
}

static int reserve_cand(work_t *w, size_t need) {
    size_t cap = w->cap_cand;
    if (grow((void **)&w->cand, &cap, need, sizeof(uint32_t)) < 0) return -1;
    cap = w->cap_cand;
    if (grow((void **)&w->cand_tag, &cap, need, 1) < 0) return -1;
    if (need > w->cap_cand) w->cap_cand = cap;
    return 0;
}

static void free_work(work_t *w) {
    free(w->lo);
    free(w->hi);
    free(w->cand);
    free(w->span_tag);
    free(w->cand_tag);
}

/* Phase 1: the offsets-table index of every probed key, tagged with its chunk. */
static int collect_keys(const segment_t *s, const uint64_t *q, const int *rt, work_t *w) {
    const layout_t *L = s->L;
    w->n_spans = 0;
    for (int t = 0; t < L->m; t++) {
        int wd = L->width[t];
        uint64_t key = chunk_of(q, L->start[t], wd), limit = (uint64_t)1 << wd;
        for (int k = 0; k <= rt[t] && k <= wd; k++) {
            /* every wd-bit mask with k bits set, in increasing order (Gosper's hack) */
            uint64_t mask = ((uint64_t)1 << k) - 1;
            while (mask < limit) {
                if (reserve_spans(w, w->n_spans + 1) < 0) return -1;
                w->lo[w->n_spans] = (uint32_t)(L->base[t] + (key ^ mask));
                w->span_tag[w->n_spans++] = (uint8_t)t;
                if (mask == 0) break;
                uint64_t c = mask & (~mask + 1), r = mask + c;
                mask = (((r ^ mask) >> 2) / c) | r;
            }
        }
    }
    return 0;
}

/* Phase 2: key -> [lo, hi) rows, prefetching each span's first row numbers;
 * phase 3: copy the row numbers out, prefetching each candidate's hash. */
static int collect_candidates(const segment_t *s, work_t *w) {
    int rb = s->row_bytes;
    size_t total = 0;
    for (size_t i = 0; i < w->n_spans; i++) __builtin_prefetch(s->offsets + w->lo[i]);
    for (size_t i = 0; i < w->n_spans; i++) {
        uint32_t k = w->lo[i];
        w->lo[i] = s->offsets[k];
        w->hi[i] = s->offsets[k + 1];
        total += w->hi[i] - w->lo[i];
        __builtin_prefetch(s->rows + ((size_t)w->span_tag[i] * s->n + w->lo[i]) * (size_t)rb);
    }
    if (reserve_cand(w, total) < 0) return -1;
    w->n_cand = 0;
    for (size_t i = 0; i < w->n_spans; i++) {
        const uint8_t *rows = s->rows + (size_t)w->span_tag[i] * s->n * (size_t)rb;
        for (uint32_t j = w->lo[i]; j < w->hi[i]; j++) {
            uint32_t row = load_row(rows + (size_t)j * rb, rb);
            w->cand_tag[w->n_cand] = w->span_tag[i];
            w->cand[w->n_cand++] = row;
        }
    }
    return 0;
}

KERNEL static void verify(const segment_t *s, const uint64_t *q, uint32_t qi, int radius,
                          const int *rt, const work_t *w, hits_t *out) {
    for (size_t c = 0; c < w->n_cand; c++) {
        if (c + PREFETCH_AHEAD < w->n_cand)
            __builtin_prefetch(s->hashes + 4 * (size_t)w->cand[c + PREFETCH_AHEAD]);
        uint32_t row = w->cand[c];
        const uint64_t *h = s->hashes + 4 * (size_t)row;
        int d = distance(h, q);
        if (d > radius || is_dead(s->dead, row)) continue;
        uint64_t x[4] = {h[0] ^ q[0], h[1] ^ q[1], h[2] ^ q[2], h[3] ^ q[3]};
        int t = w->cand_tag[c];
        if (first_within(s->L, x, rt, t) == t) push(out, qi, row, (uint32_t)d);
    }
}

enum { MODE_AUTO = 0, MODE_PROBE = 1, MODE_SCAN = 2 };

/* Returns -1 when out of memory. */
static int search_mih(const segment_t *s, const uint64_t *q, uint32_t qi, int radius, int mode,
                      work_t *w, hits_t *out) {
    int rt[MAX_CHUNKS];
    assign_radii(s->L, radius, rt);
    if (mode == MODE_SCAN || (mode == MODE_AUTO && !probing_pays(s->L, rt, s->n))) {
        scan_linear(s, q, qi, radius, out);
        return 0;
    }
    if (collect_keys(s, q, rt, w) < 0 || collect_candidates(s, w) < 0) return -1;
    verify(s, q, qi, radius, rt, w, out);
    return 0;
}

/* Scratch for building: per-row keys, and (key, row) pairs partitioned by the
 * key's top COARSE_BITS bits, so the final scatter stays inside a few KiB. */
#define COARSE_BITS 11
typedef struct {
    uint32_t *keys, *pair_key, *pair_row, *cursor;
    uint32_t coarse[(1u << COARSE_BITS) + 1];
} build_work_t;

static void build_table(const uint64_t *hashes, size_t n, int start, int w, int rb,
                        uint32_t *off, uint8_t *out, build_work_t *b) {
    size_t nb = (size_t)1 << w;
    int shift = w > COARSE_BITS ? w - COARSE_BITS : 0;
    size_t nc = nb >> shift;
    memset(b->coarse, 0, sizeof(b->coarse));
    for (size_t i = 0; i < n; i++) {
        b->keys[i] = chunk_of(hashes + 4 * i, start, w);
        b->coarse[(b->keys[i] >> shift) + 1]++;
    }
    for (size_t c = 0; c < nc; c++) b->coarse[c + 1] += b->coarse[c];
    memcpy(b->cursor, b->coarse, nc * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) { /* stable: rows stay ascending within a part */
        uint32_t pos = b->cursor[b->keys[i] >> shift]++;
        b->pair_key[pos] = b->keys[i];
        b->pair_row[pos] = (uint32_t)i;
    }
    memset(off, 0, (nb + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) off[b->pair_key[i] + 1]++; /* keys now nearly sorted */
    for (size_t k = 0; k < nb; k++) off[k + 1] += off[k];
    memcpy(b->cursor, off, nb * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        store_row(out + (size_t)b->cursor[b->pair_key[i]]++ * rb, b->pair_row[i], rb);
}

static void build_tables(const uint64_t *hashes, size_t n, const layout_t *L, int rb,
                         uint32_t *offsets, uint8_t *rows, build_work_t *b) {
    for (int t = 0; t < L->m; t++)
        build_table(hashes, n, L->start[t], L->width[t], rb, offsets + L->base[t],
                    rows + (size_t)t * n * (size_t)rb, b);
}

/* ---- Python glue --------------------------------------------------------- */

static int check_segment(Py_buffer *hashes, Py_buffer *offsets, Py_buffer *rows, Py_buffer *widths,
                         int rb, Py_buffer *dead, layout_t *L, segment_t *s) {
    if (hashes->len % HASH_BYTES || (rb != 3 && rb != 4)) {
        PyErr_SetString(PyExc_ValueError, "hashes must be whole 32-byte rows; row_bytes 3 or 4");
        return -1;
    }
    if (make_layout(widths->buf, widths->len, L) < 0) {
        PyErr_SetString(PyExc_ValueError, "chunk widths must be 1..26 bits and sum to 256");
        return -1;
    }
    s->hashes = hashes->buf;
    s->n = (size_t)hashes->len / HASH_BYTES;
    s->L = L;
    s->row_bytes = rb;
    s->offsets = offsets->buf;
    s->rows = rows->buf;
    if (rb == 3 && s->n > ((size_t)1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "3-byte row numbers hold at most 2^24 rows");
        return -1;
    }
    if ((size_t)offsets->len != L->offsets_len * sizeof(uint32_t) ||
        (size_t)rows->len != (size_t)L->m * s->n * (size_t)rb) {
        PyErr_SetString(PyExc_ValueError, "offsets or rows do not match the layout");
        return -1;
    }
    if (dead->len != 0 && (size_t)dead->len != (s->n + 7) / 8) {
        PyErr_SetString(PyExc_ValueError, "dead bitmap must be empty or (n + 7) // 8 bytes");
        return -1;
    }
    s->dead = dead->len ? dead->buf : NULL;
    return 0;
}

static PyObject *hits_result(hits_t *h) {
    if (h->oom) {
        free(h->a);
        return PyErr_NoMemory();
    }
    PyObject *r = PyBytes_FromStringAndSize((const char *)h->a, (Py_ssize_t)(h->n * sizeof(hit_t)));
    free(h->a);
    return r;
}

static int check_queries(Py_buffer *queries, int radius) {
    if (queries->len % HASH_BYTES || radius < 0) {
        PyErr_SetString(PyExc_ValueError, "queries must be whole 32-byte rows; radius >= 0");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(search_doc,
"search(hashes, offsets, rows, widths, row_bytes, dead, queries, radius, mode) -> bytes\n\n"
"Every (query, row, distance) as uint32 triples, rows not dead and within radius.\n"
"An empty ``offsets`` means the segment has no tables: a linear scan. mode 0 chooses\n"
"between probing and scanning by cost, 1 always probes, 2 always scans.");

static PyObject *py_search(PyObject *self, PyObject *args) {
    Py_buffer hashes, offsets, rows, widths, dead, queries;
    int rb, radius, mode;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*y*ii", &hashes, &offsets, &rows, &widths, &rb, &dead,
                          &queries, &radius, &mode))
        return NULL;
    PyObject *result = NULL;
    layout_t L;
    segment_t s;
    int flat = offsets.len == 0;
    if (check_queries(&queries, radius) == 0) {
        int ok;
        if (flat) {
            s.hashes = hashes.buf;
            s.n = (size_t)hashes.len / HASH_BYTES;
            s.dead = dead.len ? dead.buf : NULL;
            ok = hashes.len % HASH_BYTES == 0 && (dead.len == 0 || (size_t)dead.len == (s.n + 7) / 8);
            if (!ok) PyErr_SetString(PyExc_ValueError, "bad hashes or dead bitmap");
        } else {
            ok = check_segment(&hashes, &offsets, &rows, &widths, rb, &dead, &L, &s) == 0;
        }
        if (ok) {
            hits_t h = {NULL, 0, 0, 0};
            work_t w = {0};
            size_t nq = (size_t)queries.len / HASH_BYTES;
            int r = radius > HASH_BITS ? HASH_BITS : radius;
            Py_BEGIN_ALLOW_THREADS
            for (size_t i = 0; i < nq && !h.oom; i++) {
                uint64_t q[4];
                memcpy(q, (const uint8_t *)queries.buf + i * HASH_BYTES, HASH_BYTES);
                if (flat)
                    scan_linear(&s, q, (uint32_t)i, r, &h);
                else if (search_mih(&s, q, (uint32_t)i, r, mode, &w, &h) < 0)
                    h.oom = 1;
            }
            Py_END_ALLOW_THREADS
            free_work(&w);
            result = hits_result(&h);
        }
    }
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&widths);
    PyBuffer_Release(&dead);
    PyBuffer_Release(&queries);
    return result;
}

PyDoc_STRVAR(build_doc,
"build(hashes, widths, row_bytes, offsets_out, rows_out) -> None\n\n"
"Fill the CSR tables of a segment (row numbers ascending within each key).");

static PyObject *py_build(PyObject *self, PyObject *args) {
    Py_buffer hashes, widths, offsets, rows, dead = {0};
    int rb;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*iw*w*", &hashes, &widths, &rb, &offsets, &rows)) return NULL;
    PyObject *result = NULL;
    layout_t L;
    segment_t s;
    if (check_segment(&hashes, &offsets, &rows, &widths, rb, &dead, &L, &s) == 0) {
        size_t maxb = 0;
        for (int t = 0; t < L.m; t++)
            if (((size_t)1 << L.width[t]) > maxb) maxb = (size_t)1 << L.width[t];
        size_t rows_alloc = (s.n ? s.n : 1) * sizeof(uint32_t);
        build_work_t *b = malloc(sizeof(build_work_t));
        if (b != NULL) {
            b->keys = malloc(rows_alloc);
            b->pair_key = malloc(rows_alloc);
            b->pair_row = malloc(rows_alloc);
            b->cursor = malloc((maxb + 1) * sizeof(uint32_t));
        }
        if (b == NULL || !b->keys || !b->pair_key || !b->pair_row || !b->cursor) {
            PyErr_NoMemory();
        } else {
            Py_BEGIN_ALLOW_THREADS
            build_tables(s.hashes, s.n, &L, rb, offsets.buf, rows.buf, b);
            Py_END_ALLOW_THREADS
            result = Py_NewRef(Py_None);
        }
        if (b != NULL) {
            free(b->keys);
            free(b->pair_key);
            free(b->pair_row);
            free(b->cursor);
            free(b);
        }
    }
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&widths);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&rows);
    return result;
}

PyDoc_STRVAR(validate_doc,
"validate(n, offsets, rows, widths, row_bytes) -> bool\n\n"
"True when every table's offsets rise from 0 to n and every row number is < n:\n"
"the tables of a loaded snapshot cannot make a search read out of bounds.");

static PyObject *py_validate(PyObject *self, PyObject *args) {
    Py_buffer offsets, rows, widths;
    Py_ssize_t n_rows;
    int rb;
    (void)self;
    if (!PyArg_ParseTuple(args, "ny*y*y*i", &n_rows, &offsets, &rows, &widths, &rb)) return NULL;
    layout_t L;
    int ok = n_rows >= 0 && (rb == 3 || rb == 4) && make_layout(widths.buf, widths.len, &L) == 0;
    size_t n = (size_t)n_rows;
    ok = ok && (size_t)offsets.len == L.offsets_len * sizeof(uint32_t) &&
         (size_t)rows.len == (size_t)L.m * n * (size_t)rb && n <= ((size_t)1 << (8 * rb)) && n <= UINT32_MAX;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        const uint32_t *all = offsets.buf;
        const uint8_t *r = rows.buf;
        for (int t = 0; ok && t < L.m; t++) {
            const uint32_t *off = all + L.base[t];
            size_t nb = (size_t)1 << L.width[t];
            ok = off[0] == 0 && off[nb] == n;
            for (size_t b = 0; ok && b < nb; b++) ok = off[b] <= off[b + 1];
        }
        for (size_t j = 0; ok && j < (size_t)L.m * n; j++) ok = load_row(r + j * (size_t)rb, rb) < n;
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&widths);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"search", py_search, METH_VARARGS, search_doc},
    {"build", py_build, METH_VARARGS, build_doc},
    {"validate", py_validate, METH_VARARGS, validate_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mihcore", "Multi-index hashing core for 256-bit hashes.", -1, methods,
};

PyMODINIT_FUNC PyInit__mihcore(void) { return PyModule_Create(&module); }
