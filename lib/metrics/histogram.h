/* Mergeable log-linear histogram of response times in microseconds.
 * Bounded memory, <= 1% relative error on percentiles, merged by addition.
 * Buckets live in chunks of 64 (one power of two each) allocated on first
 * use, so a histogram of a few samples costs a chunk or two (~0.8 KB with
 * its header) and a full one the same 18 KB as a flat array.  A histogram
 * owns its chunks: copy it with goose__hist_copy, release it with
 * goose__hist_free, never with a struct assignment. */
#ifndef GOOSE_METRICS_HISTOGRAM_H
#define GOOSE_METRICS_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/* Values below 2^SUB_BITS are exact; above, each power of two is split
 * into 2^(SUB_BITS-1) buckets, so a bucket is at most 1/64 of its value
 * and its midpoint is within 0.8% of any value in it. */
#define GOOSE_HIST_SUB_BITS 7
#define GOOSE_HIST_MAX_EXP 40 /* values are clamped below 2^40 us (12.7 days) */
#define GOOSE_HIST_BUCKETS                                                     \
    ((1u << GOOSE_HIST_SUB_BITS) +                                             \
     (GOOSE_HIST_MAX_EXP - GOOSE_HIST_SUB_BITS) * (1u << (GOOSE_HIST_SUB_BITS - 1)))

#define GOOSE_HIST_CHUNK_BITS (GOOSE_HIST_SUB_BITS - 1)
#define GOOSE_HIST_CHUNK (1u << GOOSE_HIST_CHUNK_BITS) /* buckets per chunk */
#define GOOSE_HIST_CHUNKS (GOOSE_HIST_BUCKETS / GOOSE_HIST_CHUNK)

typedef struct goose_hist {
    uint64_t count;
    uint64_t sum;  /* exact, for the mean */
    uint64_t min;  /* exact; UINT64_MAX when empty */
    uint64_t max;  /* exact; 0 when empty */
    uint64_t *chunk[GOOSE_HIST_CHUNKS]; /* NULL: 64 empty buckets */
} goose_hist;

/* An empty histogram; allocates nothing. */
void goose__hist_init(goose_hist *h);
/* Frees the chunks; h is then empty (as after init) and may be reused. */
void goose__hist_free(goose_hist *h);
/* n empty histograms in one block (NULL when out of memory), and their
 * end: goose__hists_delete(NULL, n) does nothing. */
goose_hist *goose__hists_new(size_t n);
void goose__hists_delete(goose_hist *h, size_t n);
/* With e = floor(log2 v) >= SUB and m = v >> (e - SUB + 1) in [64,128), the
 * index 128 + (e-7)*64 + (m-64) simplifies to (e-6)*64 + m.  OR-ing in 64
 * makes e >= 6 for small v, where shift is 0 and the index is v itself, so
 * the exact range needs no branch of its own. */
static inline unsigned goose__hist_index_fast(uint64_t v)
{
    const uint64_t clamp = (UINT64_C(1) << GOOSE_HIST_MAX_EXP) - 1;
    v = v < clamp ? v : clamp;
    unsigned e = 63u - (unsigned)__builtin_clzll(v | GOOSE_HIST_CHUNK);
    unsigned shift = e - GOOSE_HIST_CHUNK_BITS;
    return (shift << GOOSE_HIST_CHUNK_BITS) + (unsigned)(v >> shift);
}

/* The first value of a chunk: allocates it, then adds. */
int goose__hist_add_new_chunk(goose_hist *h, uint64_t us);

/* Every function that adds returns 0, or -1 when out of memory, and then
 * leaves h as it was.  goose__hist_add runs for every request (twice, and
 * once per transaction): inline, one clz, one load and a test that is false
 * but for the first value of a chunk; the rest the compiler turns into
 * cmovs.  sum wraps only past 2^64 us (584k years). */
static inline int goose__hist_add(goose_hist *h, uint64_t us)
{
    unsigned i = goose__hist_index_fast(us);
    uint64_t *c = h->chunk[i >> GOOSE_HIST_CHUNK_BITS];
    if (__builtin_expect(!c, 0))
        return goose__hist_add_new_chunk(h, us);
    c[i & (GOOSE_HIST_CHUNK - 1)]++;
    h->count++;
    h->sum += us;
    h->min = us < h->min ? us : h->min;
    h->max = us > h->max ? us : h->max;
    return 0;
}
/* 0 when the chunk that us falls in is there (allocated now if need be),
 * -1 when out of memory: an add of us after it cannot fail, so two
 * histograms kept in step are both made ready before either is added to. */
int goose__hist_make_chunk(goose_hist *h, uint64_t us);
static inline int goose__hist_ready(goose_hist *h, uint64_t us)
{
    unsigned i = goose__hist_index_fast(us);
    return __builtin_expect(h->chunk[i >> GOOSE_HIST_CHUNK_BITS] != NULL, 1)
               ? 0
               : goose__hist_make_chunk(h, us);
}
/* Adds the n values first, first - step, ..., first - (n-1)*step (all
 * must be >= 0) in time bounded by the number of buckets, not by n. */
int goose__hist_add_series(goose_hist *h, uint64_t first, uint64_t step, uint64_t n);
/* dst += src */
int goose__hist_merge(goose_hist *dst, const goose_hist *src);
/* Allocates in dst every chunk a merge of src would need (zero), so that
 * the merge cannot fail; 0 or -1 (out of memory). */
int goose__hist_reserve(goose_hist *dst, const goose_hist *src);
/* dst = src (dst's old chunks are freed). */
int goose__hist_copy(goose_hist *dst, const goose_hist *src);
/* Bucket i's count, and a pointer to it (its chunk allocated; NULL when
 * out of memory) for tests that build odd histograms. */
uint64_t goose__hist_bucket(const goose_hist *h, unsigned i);
uint64_t *goose__hist_slot(goose_hist *h, unsigned i);
/* 1 when both hold the same values (chunks of zeros count as absent). */
int goose__hist_equal(const goose_hist *a, const goose_hist *b);
/* Heap bytes held (the chunks; the struct itself is the caller's). */
size_t goose__hist_heap_bytes(const goose_hist *h);
/* Value at quantile q in [0,1]: the midpoint of the bucket holding the
 * ceil(q*count)-th smallest value, clamped to [min,max]; 0 when empty. */
uint64_t goose__hist_percentile(const goose_hist *h, double q);
double goose__hist_mean(const goose_hist *h);
/* How many recorded values are at most us (within a bucket's width). */
uint64_t goose__hist_count_upto(const goose_hist *h, uint64_t us);
int goose__hist_is_empty(const goose_hist *h);
/* The bucket a value falls in (values >= 2^40 go in the last one), and the
 * value a bucket reports before clamping; exposed for tests. */
unsigned goose__hist_index(uint64_t us);
uint64_t goose__hist_bucket_mid(unsigned index);

/* Sparse serialization (only non-zero buckets), for the Gaggle:
 * writes at most goose__hist_encoded_max() bytes. */
size_t goose__hist_encoded_max(void);
size_t goose__hist_encode(const goose_hist *h, unsigned char *out);
/* Returns 0, or -1 if the bytes are malformed (h is then left empty). */
#define GOOSE_HIST_NOMEM (-2) /* decode: out of memory, not malformed */
int goose__hist_decode(goose_hist *h, const unsigned char *in, size_t len);

#endif
