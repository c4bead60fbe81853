/*
 * The numeric core of the ss-kp-1 shortlist (keypoint_index.py): quantising
 * descriptors through the vocabulary tree, and scoring a query's words over
 * the inverted file in one pass.
 *
 * quantise: a descriptor is four native 64-bit words (as in _mihcore.c); it
 * descends the complete tree level by level to the child whose centre is
 * nearest by Hamming distance (ties to the first child), exactly as
 * Vocabulary.quantise does in numpy.
 *
 * score: for each query word w with weight q, every posting p of w's list
 * (offsets[w] .. offsets[w + 1]) adds q * weight[p] (float16 in the file) to
 * scores[postings[p]], in float32.  Then one pass over the scores keeps the
 * `top` best (score descending, position ascending on ties) and sets every
 * score back to 0, so the caller's scratch array is ready for the next
 * lookup without a separate clear.  The GIL is released while computing.
 *
 * At a million photos the score array (4 MB) does not fit the core's L2
 * cache and the adds are scattered over it.  So the photos are taken in
 * blocks of `block` (a few hundred KB of scores): each list is sorted by
 * photo, a cursor a word walks it block by block, and the block's top few
 * are taken while it is still in cache.  Every photo still adds its words in
 * the query's order, so the sums are bitwise the same for any block size.
 * A list that is not sorted (a damaged file) can only lose postings, never
 * read or write outside the arrays.  With signature sub-lists (probe, below)
 * a lookup walks thousands of short lists: the caller then passes one block.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROW_WORDS 4
#define ROW_BYTES 32
#define MAX_TOP 4096
#define PREFETCH_AHEAD 16

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KERNEL __attribute__((target_clones("popcnt", "default")))
#else
#define KERNEL
#endif
#define INLINE static inline __attribute__((always_inline))

INLINE int hamming(const uint64_t *a, const uint64_t *b) {
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
           __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

KERNEL static void quantise_rows(const uint64_t *centres, size_t branching, int depth,
                                 size_t first_leaf, const uint64_t *rows, size_t n, int64_t *out) {
    for (size_t i = 0; i < n; i++) {
        uint64_t q[ROW_WORDS];
        memcpy(q, rows + i * ROW_WORDS, ROW_BYTES);
        size_t node = 0;
        for (int level = 0; level < depth; level++) {
            size_t first = node * branching + 1, best = first;
            int best_d = 257;
            for (size_t c = first; c < first + branching; c++) {
                int d = hamming(q, centres + c * ROW_WORDS);
                if (d < best_d) {
                    best_d = d;
                    best = c;
                }
            }
            node = best;
        }
        out[i] = (int64_t)(node - first_leaf);
    }
}

/* IEEE 754 half to single precision, every case (the weights are in [0, 1]). */
INLINE float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        float v = (float)mant * (1.0f / 16777216.0f); /* subnormal: mant * 2^-24 */
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (mant << 13);
    else
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

typedef struct {
    float score;
    int64_t pos;
} best_t;

/* a before b in the shortlist: higher score, then lower position */
INLINE int ahead(float sa, int64_t pa, float sb, int64_t pb) {
    return sa > sb || (sa == sb && pa < pb);
}

/* Adds every posting of photos below `end` (cursor[j] onwards, advanced past them; a list
 * ends at limit[j]). A list already walked to its end costs one comparison. */
static void accumulate(const uint32_t *postings, const uint16_t *weights, size_t end,
                       const int64_t *limit, const float *qweights, size_t n_words,
                       int64_t *cursor, float *scores) {
    for (size_t j = 0; j < n_words; j++) {
        const int64_t hi = limit[j];
        int64_t p = cursor[j];
        if (p >= hi) continue;
        const float q = qweights[j];
        for (; p < hi && postings[p] < end; p++) {
            if (p + PREFETCH_AHEAD < hi) __builtin_prefetch(scores + postings[p + PREFETCH_AHEAD], 1);
            scores[postings[p]] += q * half_to_float(weights[p]);
        }
        cursor[j] = p;
    }
}

/* Scores [start, end) > 0 into the sorted best[] (k of them so far, at most top), each score
 * reset to 0; returns the new count. */
static size_t select_top(float *scores, size_t start, size_t end, size_t top, best_t *best,
                         size_t k) {
    for (size_t i = start; i < end; i++) {
        float s = scores[i];
        if (!(s > 0.0f)) {
            if (s != 0.0f) scores[i] = 0.0f;
            continue;
        }
        scores[i] = 0.0f;
        if (k == top && !ahead(s, (int64_t)i, best[k - 1].score, best[k - 1].pos)) continue;
        size_t at = k < top ? k++ : top - 1; /* insertion into the sorted list */
        while (at > 0 && ahead(s, (int64_t)i, best[at - 1].score, best[at - 1].pos)) {
            best[at] = best[at - 1];
            at--;
        }
        best[at].score = s;
        best[at].pos = (int64_t)i;
    }
    return k;
}

static size_t score_blocks(const int64_t *offsets, const uint32_t *postings,
                           const uint16_t *weights, const int64_t *words, const float *qweights,
                           size_t n_words, int64_t *cursor, float *scores, size_t n_photos,
                           size_t block, size_t top, best_t *best) {
    size_t k = 0;
    int64_t *limit = cursor + n_words;
    for (size_t j = 0; j < n_words; j++) {
        cursor[j] = offsets[words[j]];
        limit[j] = offsets[words[j] + 1];
    }
    for (size_t start = 0; start < n_photos; start += block) {
        size_t end = n_photos - start > block ? start + block : n_photos;
        accumulate(postings, weights, end, limit, qweights, n_words, cursor, scores);
        k = select_top(scores, start, end, top, best, k);
    }
    return k;
}

/* The sub-lists a query set walks (keypoint_index.KeypointIndex._query_lists): rows sorted by
 * word; each row's signature is its bits at its word's positions (bit i of the signature from
 * position bits[word * n_bits + i], most significant bit of a byte first, as np.unpackbits),
 * and it probes every list (word << n_bits) | (signature ^ mask) whose list is not empty, once
 * per word (a stamp a signature, no clearing). Writes the lists and each one's owner[row];
 * returns how many. */
static size_t probe_rows(const uint8_t *bits, size_t n_bits, const uint8_t *rows,
                         const int64_t *words, const int64_t *owner, size_t n,
                         const int64_t *masks, size_t n_masks, const int64_t *offsets,
                         uint32_t *stamp, int64_t *out_lists, int64_t *out_owner) {
    size_t k = 0;
    uint32_t group = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || words[i] != words[i - 1]) group++;
        const uint8_t *row = rows + i * ROW_BYTES, *at = bits + (size_t)words[i] * n_bits;
        int64_t sig = 0;
        for (size_t b = 0; b < n_bits; b++)
            sig |= (int64_t)((row[at[b] >> 3] >> (7 - (at[b] & 7))) & 1) << b;
        for (size_t m = 0; m < n_masks; m++) {
            int64_t s = sig ^ masks[m];
            if (stamp[s] == group) continue;
            stamp[s] = group;
            int64_t list = (words[i] << n_bits) | s;
            if (offsets[list + 1] > offsets[list]) {
                out_lists[k] = list;
                out_owner[k++] = owner[i];
            }
        }
    }
    return k;
}

PyDoc_STRVAR(probe_doc,
"probe(bits, n_bits, rows, words, owner, masks, offsets, out_lists, out_owner) -> int\n\n"
"The non-empty sub-lists within the masks of each row's signature, once per word (rows\n"
"sorted by word), and each one's owner; returns how many.");

static PyObject *py_probe(PyObject *self, PyObject *args) {
    Py_buffer bits, rows, words, owner, masks, offsets, out_lists, out_owner;
    Py_ssize_t n_bits;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*y*y*w*w*", &bits, &n_bits, &rows, &words, &owner,
                          &masks, &offsets, &out_lists, &out_owner))
        return NULL;
    PyObject *result = NULL;
    size_t n = (size_t)words.len / sizeof(int64_t), n_masks = (size_t)masks.len / sizeof(int64_t);
    size_t n_lists = (size_t)offsets.len / sizeof(int64_t);
    const int64_t *w = words.buf, *mk = masks.buf;
    int ok = n_bits >= 1 && n_bits <= 12 && bits.len % n_bits == 0 &&
             rows.len == (Py_ssize_t)(n * ROW_BYTES) && owner.len == words.len &&
             masks.len % sizeof(int64_t) == 0 && offsets.len % sizeof(int64_t) == 0 &&
             n_lists == (size_t)bits.len / (size_t)n_bits * ((size_t)1 << n_bits) + 1 &&
             out_lists.len == (Py_ssize_t)(n * n_masks * sizeof(int64_t)) &&
             out_owner.len == out_lists.len;
    const uint8_t *bt = bits.buf;
    for (Py_ssize_t j = 0; ok && j < bits.len; j++) ok = bt[j] < 8 * ROW_BYTES;
    for (size_t j = 0; ok && j < n; j++)
        ok = w[j] >= 0 && (size_t)w[j] < (size_t)bits.len / (size_t)n_bits && (j == 0 || w[j] >= w[j - 1]);
    for (size_t j = 0; ok && j < n_masks; j++) ok = mk[j] >= 0 && mk[j] < ((int64_t)1 << n_bits);
    uint32_t *stamp = ok ? PyMem_Calloc((size_t)1 << n_bits, sizeof(uint32_t)) : NULL;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "probe: arrays do not fit together");
    } else if (stamp == NULL) {
        PyErr_NoMemory();
    } else {
        size_t k;
        Py_BEGIN_ALLOW_THREADS
        k = probe_rows(bt, (size_t)n_bits, rows.buf, w, owner.buf, n, mk, n_masks, offsets.buf,
                       stamp, out_lists.buf, out_owner.buf);
        Py_END_ALLOW_THREADS
        result = PyLong_FromSize_t(k);
    }
    PyMem_Free(stamp);
    PyBuffer_Release(&bits);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&words);
    PyBuffer_Release(&owner);
    PyBuffer_Release(&masks);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&out_lists);
    PyBuffer_Release(&out_owner);
    return result;
}

PyDoc_STRVAR(quantise_doc,
"quantise(centres, branching, depth, rows, out) -> None\n\n"
"The word of each 32-byte row (int64 into out): nearest child, level by level.");

static PyObject *py_quantise(PyObject *self, PyObject *args) {
    Py_buffer centres, rows, out;
    Py_ssize_t branching;
    int depth;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*niy*w*", &centres, &branching, &depth, &rows, &out)) return NULL;
    PyObject *result = NULL;
    size_t nodes = 0, leaves = 1, first_leaf = 0;
    int ok = branching >= 2 && depth >= 1 && depth <= 40;
    for (int level = 0; ok && level <= depth; level++) {
        if (level == depth) first_leaf = nodes;
        nodes += leaves;
        ok = leaves <= ((size_t)1 << 40) / (size_t)branching;
        leaves *= (size_t)branching;
    }
    size_t n = (size_t)rows.len / ROW_BYTES;
    ok = ok && (size_t)centres.len == nodes * ROW_BYTES && rows.len % ROW_BYTES == 0 &&
         (size_t)out.len == n * sizeof(int64_t);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "centres, rows or out do not fit branching and depth");
    } else {
        Py_BEGIN_ALLOW_THREADS
        quantise_rows(centres.buf, (size_t)branching, depth, first_leaf, rows.buf, n, out.buf);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&centres);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(score_doc,
"score(offsets, postings, weights, words, qweights, scratch, block, top, pos_out, score_out)"
" -> int\n\n"
"Adds qweights[j] * weights[p] (float16) over the posting list of every words[j] into\n"
"scratch (float32, one per photo, all 0 on entry and on return), `block` photos at a time\n"
"(lists sorted by photo; 0: all at once), then writes the `top` best positions (int64)\n"
"and scores (float32), best first; returns how many (scores > 0).");

static PyObject *py_score(PyObject *self, PyObject *args) {
    Py_buffer offsets, postings, weights, words, qweights, scratch, pos_out, score_out;
    Py_ssize_t top, block;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*nnw*w*", &offsets, &postings, &weights, &words,
                          &qweights, &scratch, &block, &top, &pos_out, &score_out))
        return NULL;
    PyObject *result = NULL;
    size_t n_lists = offsets.len / sizeof(int64_t), n_post = postings.len / sizeof(uint32_t);
    size_t n_words = words.len / sizeof(int64_t), n_photos = scratch.len / sizeof(float);
    const int64_t *off = offsets.buf, *w = words.buf;
    int ok = offsets.len % sizeof(int64_t) == 0 && n_lists >= 1 &&
             postings.len % sizeof(uint32_t) == 0 && weights.len == (Py_ssize_t)(n_post * 2) &&
             words.len % sizeof(int64_t) == 0 && qweights.len == (Py_ssize_t)(n_words * sizeof(float)) &&
             scratch.len % sizeof(float) == 0 && top >= 1 && top <= MAX_TOP && block >= 0 &&
             pos_out.len == (Py_ssize_t)(top * sizeof(int64_t)) &&
             score_out.len == (Py_ssize_t)(top * sizeof(float));
    /* every list looked up must lie inside the postings: a damaged file reads nothing outside */
    for (size_t j = 0; ok && j < n_words; j++)
        ok = w[j] >= 0 && (size_t)w[j] + 1 < n_lists && off[w[j]] >= 0 &&
             off[w[j]] <= off[w[j] + 1] && (size_t)off[w[j] + 1] <= n_post;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "score: arrays do not fit together");
    }
    best_t *best = ok ? PyMem_Malloc((size_t)top * sizeof(best_t)) : NULL;
    int64_t *cursor = ok ? PyMem_Malloc((n_words ? 2 * n_words : 1) * sizeof(int64_t)) : NULL;
    if (ok && (best == NULL || cursor == NULL)) {
        PyErr_NoMemory();
    } else if (ok) {
        size_t k, step = block == 0 || (size_t)block > n_photos ? n_photos : (size_t)block;
        Py_BEGIN_ALLOW_THREADS
        k = score_blocks(off, postings.buf, weights.buf, w, qweights.buf, n_words, cursor,
                         scratch.buf, n_photos, step ? step : 1, (size_t)top, best);
        Py_END_ALLOW_THREADS
        int64_t *po = pos_out.buf;
        float *so = score_out.buf;
        for (size_t i = 0; i < k; i++) {
            po[i] = best[i].pos;
            so[i] = best[i].score;
        }
        result = PyLong_FromSize_t(k);
    }
    PyMem_Free(best);
    PyMem_Free(cursor);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&postings);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&words);
    PyBuffer_Release(&qweights);
    PyBuffer_Release(&scratch);
    PyBuffer_Release(&pos_out);
    PyBuffer_Release(&score_out);
    return result;
}

static PyMethodDef methods[] = {
    {"quantise", py_quantise, METH_VARARGS, quantise_doc},
    {"score", py_score, METH_VARARGS, score_doc},
    {"probe", py_probe, METH_VARARGS, probe_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kpcore", "Vocabulary quantisation and inverted-file scoring.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__kpcore(void) { return PyModule_Create(&module); }
