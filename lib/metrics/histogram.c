/* Log-linear histogram: exact below 2^7, then 64 buckets per power of two.
 * The layout and the error bound are described in histogram.h. */
#include "metrics/histogram.h"

#include <math.h>
#include <string.h>

#define SUB GOOSE_HIST_SUB_BITS
#define HALF (1u << (SUB - 1))             /* buckets per power of two: 64 */
#define CLAMP ((UINT64_C(1) << GOOSE_HIST_MAX_EXP) - 1) /* largest binned value */

/* Format version, first byte of an encoding; bump it if the layout changes. */
#define HIST_FORMAT 1
#define VARINT_MAX 10 /* bytes of a LEB128 uint64 */

/* With e = floor(log2 v) >= SUB and m = v >> (e - SUB + 1) in [64,128), the
 * index 128 + (e-7)*64 + (m-64) simplifies to (e-6)*64 + m.  OR-ing in 64
 * makes e >= 6 for small v, where shift is 0 and the index is v itself, so
 * the exact range needs no branch of its own. */
static inline unsigned hist_index(uint64_t v)
{
    v = v < CLAMP ? v : CLAMP;
    unsigned e = 63u - (unsigned)__builtin_clzll(v | HALF);
    unsigned shift = e - (SUB - 1);
    return (shift << (SUB - 1)) + (unsigned)(v >> shift);
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

/* Runs once per request: one clz, no branches besides what the compiler
 * turns into cmovs.  sum wraps only past 2^64 us (584k years). */
void goose__hist_add(goose_hist *h, uint64_t us)
{
    h->buckets[hist_index(us)]++;
    h->count++;
    h->sum += us;
    h->min = us < h->min ? us : h->min;
    h->max = us > h->max ? us : h->max;
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
void goose__hist_add_series(goose_hist *h, uint64_t first, uint64_t step, uint64_t n)
{
    if (n == 0)
        return;
    if (step == 0) {
        h->buckets[hist_index(first)] += n;
    } else {
        for (uint64_t k = 0; k < n;) {
            unsigned i = hist_index(first - k * step);
            uint64_t last = (first - bucket_low(i)) / step; /* >= k */
            uint64_t m = last - k + 1 < n - k ? last - k + 1 : n - k;
            h->buckets[i] += m;
            k += m;
        }
    }
    uint64_t lowest = first - (n - 1) * step;
    h->count += n;
    h->sum += series_sum(first, step, n);
    h->min = lowest < h->min ? lowest : h->min;
    h->max = first > h->max ? first : h->max;
}

void goose__hist_merge(goose_hist *dst, const goose_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < GOOSE_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
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
        seen += h->buckets[i];
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
        if (h->buckets[i] == 0)
            continue;
        n += put_varint(out + n, i - prev - 1);
        n += put_varint(out + n, h->buckets[i]);
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

int goose__hist_decode(goose_hist *h, const unsigned char *in, size_t len)
{
    uint64_t count, sum, min, max, total = 0;
    size_t pos = 1;
    unsigned next = 0, first = 0, last = 0; /* next: lowest index allowed */

    goose__hist_init(h);
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
        if (total == 0)
            first = i;
        last = i;
        h->buckets[i] = c;
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
    goose__hist_init(h);
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
        n += h->buckets[i];
    if (goose__hist_bucket_mid(last) <= us)
        n += h->buckets[last];
    return n;
}
