/* Log-linear histogram: exact below 2^7, then 64 buckets per power of two.
 * The layout and the error bound are described in histogram.h. */
#include "metrics/histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB GOOSE_HIST_SUB_BITS
#define HALF (1u << (SUB - 1))             /* buckets per power of two: 64 */
#define CB GOOSE_HIST_CHUNK_BITS
#define CMASK (GOOSE_HIST_CHUNK - 1)

/* Format version, first byte of an encoding; bump it if the layout changes. */
#define HIST_FORMAT 1
#define VARINT_MAX 10 /* bytes of a LEB128 uint64 */

static inline unsigned hist_index(uint64_t v)
{
    return goose__hist_index_fast(v); /* histogram.h says how */
}

unsigned goose__hist_index(uint64_t us)
{
    return hist_index(us);
}

uint64_t goose__hist_bucket_mid(unsigned index)
{
    if (index < (1u << SUB))
        return index;
    if (index >= GOOSE_HIST_BUCKETS)
        index = GOOSE_HIST_BUCKETS - 1;
    unsigned shift = (index >> (SUB - 1)) - 1;
    uint64_t lo = (uint64_t)(HALF + (index & (HALF - 1))) << shift;
    return lo + ((UINT64_C(1) << shift) >> 1);
}

void goose__hist_init(goose_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void goose__hist_free(goose_hist *h)
{
    for (unsigned c = 0; c < GOOSE_HIST_CHUNKS; c++)
        free(h->chunk[c]);
    goose__hist_init(h);
}

goose_hist *goose__hists_new(size_t n)
{
    goose_hist *h = malloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; h && i < n; i++)
        goose__hist_init(&h[i]);
    return h;
}

void goose__hists_delete(goose_hist *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        goose__hist_free(&h[i]);
    free(h);
}

static inline uint64_t bucket(const goose_hist *h, unsigned i)
{
    const uint64_t *c = h->chunk[i >> CB];
    return c ? c[i & CMASK] : 0;
}

uint64_t goose__hist_bucket(const goose_hist *h, unsigned i)
{
    return i < GOOSE_HIST_BUCKETS ? bucket(h, i) : 0;
}

/* Chunks first..last exist afterwards, or -1 (out of memory; the ones
 * this call made are freed again, so h is as it was). */
static int need_chunks(goose_hist *h, unsigned first, unsigned last)
{
    uint64_t made = 0; /* bit c: chunk c allocated here (35 chunks < 64) */
    for (unsigned c = first; c <= last; c++) {
        if (h->chunk[c])
            continue;
        if (!(h->chunk[c] = calloc(GOOSE_HIST_CHUNK, sizeof *h->chunk[c]))) {
            for (unsigned d = first; d < c; d++)
                if (made >> d & 1) {
                    free(h->chunk[d]);
                    h->chunk[d] = NULL;
                }
            return -1;
        }
        made |= UINT64_C(1) << c;
    }
    return 0;
}

uint64_t *goose__hist_slot(goose_hist *h, unsigned i)
{
    if (i >= GOOSE_HIST_BUCKETS || need_chunks(h, i >> CB, i >> CB) < 0)
        return NULL;
    return &h->chunk[i >> CB][i & CMASK];
}

int goose__hist_add_new_chunk(goose_hist *h, uint64_t us)
{
    unsigned c = hist_index(us) >> CB;
    return need_chunks(h, c, c) < 0 ? -1 : goose__hist_add(h, us);
}

int goose__hist_make_chunk(goose_hist *h, uint64_t us)
{
    unsigned c = hist_index(us) >> CB;
    return need_chunks(h, c, c);
}

/* The smallest value bucket i holds. */
static uint64_t bucket_low(unsigned i)
{
    if (i < (1u << SUB))
        return i;
    unsigned shift = (i >> (SUB - 1)) - 1;
    return (uint64_t)(HALF + (i & (HALF - 1))) << shift;
}

/* n * first - step * n(n-1)/2, wrapping as n single adds would. */
static uint64_t series_sum(uint64_t first, uint64_t step, uint64_t n)
{
    uint64_t pairs = n % 2 ? n * ((n - 1) / 2) : (n / 2) * (n - 1);
    return n * first - step * pairs;
}

/* Walks down the series a bucket at a time: every term from k on that is
 * at least the bucket's low end falls in that bucket. */
int goose__hist_add_series(goose_hist *h, uint64_t first, uint64_t step, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t lowest = first - (n - 1) * step;
    if (need_chunks(h, hist_index(lowest) >> CB, hist_index(first) >> CB) < 0)
        return -1;
    if (step == 0) {
        *goose__hist_slot(h, hist_index(first)) += n;
    } else {
        for (uint64_t k = 0; k < n;) {
            unsigned i = hist_index(first - k * step);
            uint64_t last = (first - bucket_low(i)) / step; /* >= k */
            uint64_t m = last - k + 1 < n - k ? last - k + 1 : n - k;
            h->chunk[i >> CB][i & CMASK] += m;
            k += m;
        }
    }
    h->count += n;
    h->sum += series_sum(first, step, n);
    h->min = lowest < h->min ? lowest : h->min;
    h->max = first > h->max ? first : h->max;
    return 0;
}

/* Chunks allocated up front, so a failure changes nothing. */
int goose__hist_reserve(goose_hist *dst, const goose_hist *src)
{
    if (src->count == 0)
        return 0;
    unsigned first = hist_index(src->min) >> CB, last = hist_index(src->max) >> CB;
    for (unsigned c = first; c <= last; c++)
        if (src->chunk[c] && !dst->chunk[c] && need_chunks(dst, c, c) < 0)
            return -1;
    return 0;
}

int goose__hist_merge(goose_hist *dst, const goose_hist *src)
{
    if (src->count == 0)
        return 0;
    unsigned first = hist_index(src->min) >> CB, last = hist_index(src->max) >> CB;
    uint64_t made = 0; /* bit c: dst's chunk c allocated here */
    for (unsigned c = first; c <= last; c++) {
        if (!src->chunk[c] || dst->chunk[c])
            continue;
        if (need_chunks(dst, c, c) < 0)
            goto fail;
        made |= UINT64_C(1) << c;
    }
    for (unsigned c = first; c <= last; c++) {
        const uint64_t *from = src->chunk[c];
        uint64_t *to = dst->chunk[c];
        if (from)
            for (unsigned j = 0; j < GOOSE_HIST_CHUNK; j++)
                to[j] += from[j];
    }
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
fail: /* drop the chunks made for this merge: they are still all zero */
    for (unsigned c = first; c <= last; c++) {
        if (!(made >> c & 1))
            continue;
        free(dst->chunk[c]);
        dst->chunk[c] = NULL;
    }
    return -1;
}

int goose__hist_copy(goose_hist *dst, const goose_hist *src)
{
    if (dst == src)
        return 0;
    goose__hist_free(dst);
    return goose__hist_merge(dst, src);
}

int goose__hist_equal(const goose_hist *a, const goose_hist *b)
{
    if (a->count != b->count || a->sum != b->sum || a->min != b->min || a->max != b->max)
        return 0;
    for (unsigned i = 0; i < GOOSE_HIST_BUCKETS; i++)
        if (bucket(a, i) != bucket(b, i))
            return 0;
    return 1;
}

size_t goose__hist_heap_bytes(const goose_hist *h)
{
    size_t n = 0;
    for (unsigned c = 0; c < GOOSE_HIST_CHUNKS; c++)
        n += h->chunk[c] ? GOOSE_HIST_CHUNK * sizeof *h->chunk[c] : 0;
    return n;
}

uint64_t goose__hist_percentile(const goose_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0)) /* also NaN */
        return h->min;
    if (q >= 1)
        return h->max;

    double x = ceil(q * (double)h->count);
    uint64_t rank = x >= (double)h->count ? h->count : (uint64_t)x;
    if (rank < 1)
        rank = 1;

    /* Nothing lies outside the buckets of min and max. */
    unsigned first = hist_index(h->min), last = hist_index(h->max);
    uint64_t seen = 0;
    for (unsigned i = first; i <= last; i++) {
        if (!h->chunk[i >> CB]) { /* 64 empty buckets */
            i |= CMASK;
            continue;
        }
        seen += h->chunk[i >> CB][i & CMASK];
        if (seen >= rank) {
            uint64_t mid = goose__hist_bucket_mid(i);
            if (mid < h->min)
                return h->min;
            return mid > h->max ? h->max : mid;
        }
    }
    return h->max; /* buckets disagree with count; not reachable via the API */
}

double goose__hist_mean(const goose_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

int goose__hist_is_empty(const goose_hist *h)
{
    return h->count == 0;
}

/* Encoding: a version byte, then LEB128 varints: count, sum, min, max, and
 * for every non-zero bucket in increasing order (index - previous index - 1,
 * bucket count), the previous index starting at -1.  Canonical: no zero
 * buckets, no overlong varints, so equal histograms encode to equal bytes. */
size_t goose__hist_encoded_max(void)
{
    /* A delta is below GOOSE_HIST_BUCKETS < 2^14, so 2 bytes. */
    return 1 + 4 * VARINT_MAX + (size_t)GOOSE_HIST_BUCKETS * (2 + VARINT_MAX);
}

static size_t put_varint(unsigned char *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

size_t goose__hist_encode(const goose_hist *h, unsigned char *out)
{
    size_t n = 0;
    out[n++] = HIST_FORMAT;
    n += put_varint(out + n, h->count);
    n += put_varint(out + n, h->sum);
    n += put_varint(out + n, h->min);
    n += put_varint(out + n, h->max);
    if (h->count == 0)
        return n;
    unsigned prev = (unsigned)-1;
    for (unsigned i = hist_index(h->min); i <= hist_index(h->max); i++) {
        uint64_t b = bucket(h, i);
        if (b == 0)
            continue;
        n += put_varint(out + n, i - prev - 1);
        n += put_varint(out + n, b);
        prev = i;
    }
    return n;
}

/* Reads one varint at *pos; -1 if truncated, longer than 64 bits or overlong. */
static int get_varint(const unsigned char *in, size_t len, size_t *pos,
                      uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < VARINT_MAX; i++) {
        if (*pos >= len)
            return -1;
        unsigned char b = in[(*pos)++];
        if (i == VARINT_MAX - 1 && b > 1)
            return -1; /* bits past 2^64 */
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return -1; /* overlong */
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* h is freed first: it holds what the bytes say, or nothing. */
int goose__hist_decode(goose_hist *h, const unsigned char *in, size_t len)
{
    uint64_t count, sum, min, max, total = 0;
    size_t pos = 1;
    unsigned next = 0, first = 0, last = 0; /* next: lowest index allowed */

    goose__hist_free(h);
    if (!in || len < 1 || in[0] != HIST_FORMAT)
        goto fail;
    if (get_varint(in, len, &pos, &count) || get_varint(in, len, &pos, &sum) ||
        get_varint(in, len, &pos, &min) || get_varint(in, len, &pos, &max))
        goto fail;
    if (count == 0) {
        if (sum != 0 || min != UINT64_MAX || max != 0 || pos != len)
            goto fail;
        return 0;
    }
    if (min > max)
        goto fail;

    while (pos < len) {
        uint64_t delta, c;
        if (get_varint(in, len, &pos, &delta) || get_varint(in, len, &pos, &c))
            goto fail;
        if (delta >= GOOSE_HIST_BUCKETS - next || c == 0 || c > count - total)
            goto fail;
        unsigned i = next + (unsigned)delta;
        uint64_t *slot = goose__hist_slot(h, i);
        if (!slot) {
            goose__hist_free(h);
            return GOOSE_HIST_NOMEM;
        }
        if (total == 0)
            first = i;
        last = i;
        *slot = c;
        total += c;
        next = i + 1;
    }
    /* The buckets must hold exactly count values, from min's to max's. */
    if (total != count || first != hist_index(min) || last != hist_index(max))
        goto fail;
    h->count = count;
    h->sum = sum;
    h->min = min;
    h->max = max;
    return 0;

fail:
    goose__hist_free(h);
    return -1;
}

/* How many values are at most us (a bucket counts whole when its midpoint
 * is at most us, so within the bucket's 1.6% width). */
uint64_t goose__hist_count_upto(const goose_hist *h, uint64_t us)
{
    if (!h->count || us < h->min)
        return 0;
    if (us >= h->max)
        return h->count;
    unsigned last = goose__hist_index(us);
    uint64_t n = 0;
    for (unsigned i = 0; i < last; i++)
        n += bucket(h, i);
    if (goose__hist_bucket_mid(last) <= us)
        n += bucket(h, last);
    return n;
}
