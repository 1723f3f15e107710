/* Unit tests for the response-time histogram (lib/metrics/histogram.c). */
#include "test.h"

#include <math.h>

#include "metrics/histogram.h"

#define NB GOOSE_HIST_BUCKETS
#define TWO40 (UINT64_C(1) << 40)
#define MAX_US UINT64_C(60000000) /* 60 s */

/* xorshift64, fixed seeds: every run sees the same values. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
    return test_rng(&rng_state);
}

static double rng_unit(void) /* [0,1) */
{
    return (double)(rng() >> 11) * 0x1.0p-53;
}

/* Log-uniform over [1, 60 s]. */
static uint64_t log_uniform(double u)
{
    uint64_t v = (uint64_t)llround(exp(u * log((double)MAX_US)));
    return v < 1 ? 1 : v > MAX_US ? MAX_US : v;
}

/* The layout as the design states it, written without clz. */
static unsigned ref_index(uint64_t v)
{
    if (v >= TWO40)
        v = TWO40 - 1;
    if (v < 128)
        return (unsigned)v;
    unsigned e = 0;
    while (v >> (e + 1))
        e++;
    uint64_t m = v >> (e - 6);
    return 128 + (e - 7) * 64 + (unsigned)(m - 64);
}

static goose_hist empty_hist; /* goose__hist_init'ed in each test */

static void init_empty(void)
{
    goose__hist_init(&empty_hist);
}

#define ASSERT_HIST_EQ(a, b) ASSERT(goose__hist_equal((a), (b)))

/* Histograms own their chunks: every (static) one here is emptied with
 * this, which frees what it held. */
static void reinit(goose_hist *h)
{
    goose__hist_free(h);
}

/* ASSERT_CMP goes through long long; these print unsigned values. */
#define ASSERT_U64_EQ(a, b)                                                    \
    do {                                                                       \
        uint64_t a_ = (a), b_ = (b);                                           \
        if (a_ != b_)                                                          \
            TEST_FAIL("%s == %s: %" PRIu64 " vs %" PRIu64, #a, #b, a_, b_);    \
    } while (0)

/* Whatever decode accepts must be a histogram the API could have built. */
static void assert_consistent(const goose_hist *h)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < NB; i++)
        total += goose__hist_bucket(h, i);
    ASSERT_U64_EQ(total, h->count);
    if (h->count == 0) {
        ASSERT_HIST_EQ(h, &empty_hist);
        return;
    }
    ASSERT(h->min <= h->max);
    unsigned lo = goose__hist_index(h->min), hi = goose__hist_index(h->max);
    ASSERT(goose__hist_bucket(h, lo) > 0);
    ASSERT(goose__hist_bucket(h, hi) > 0);
    for (unsigned i = 0; i < NB; i++)
        if (i < lo || i > hi)
            ASSERT_U64_EQ(goose__hist_bucket(h, i), 0);
}

TEST(layout)
{
    ASSERT_EQ(NB, 2240);
    ASSERT_EQ(goose__hist_index(0), 0);
    ASSERT_EQ(goose__hist_index(1), 1);
    ASSERT_EQ(goose__hist_index(63), 63);
    ASSERT_EQ(goose__hist_index(64), 64);
    ASSERT_EQ(goose__hist_index(127), 127);
    ASSERT_EQ(goose__hist_index(128), 128);
    ASSERT_EQ(goose__hist_index(129), 128);
    ASSERT_EQ(goose__hist_index(130), 129);
    ASSERT_EQ(goose__hist_index(255), 191);
    ASSERT_EQ(goose__hist_index(256), 192);
    ASSERT_EQ(goose__hist_index(TWO40 - 1), NB - 1);
    ASSERT_EQ(goose__hist_index(TWO40), NB - 1);
    ASSERT_EQ(goose__hist_index(UINT64_MAX), NB - 1);

    /* Every power of two, its neighbours, and a random sweep of all sizes. */
    for (unsigned e = 0; e < 64; e++) {
        uint64_t p = UINT64_C(1) << e;
        for (int d = -1; d <= 1; d++) {
            uint64_t v = p + (uint64_t)(int64_t)d;
            ASSERT_EQ(goose__hist_index(v), ref_index(v));
        }
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t v = rng() >> (rng() % 64);
        ASSERT_EQ(goose__hist_index(v), ref_index(v));
    }

    /* Buckets tile the line in order: consecutive values move by 0 or 1. */
    unsigned prev = 0;
    for (uint64_t v = 1; v < (UINT64_C(1) << 22); v++) {
        unsigned i = goose__hist_index(v);
        ASSERT(i == prev || i == prev + 1);
        prev = i;
    }
    /* Each bucket's midpoint lies in that bucket. */
    for (unsigned i = 0; i < NB; i++)
        ASSERT_EQ(goose__hist_index(goose__hist_bucket_mid(i)), i);
}

/* One value alone: percentiles give it back exactly, and the bucket's own
 * midpoint is within 1/128 (0.78%) of it. */
static void check_alone(goose_hist *h, uint64_t v)
{
    static const double qs[] = {0, 0.001, 0.25, 0.5, 0.99, 0.999, 1};
    goose__hist_add(h, v);
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
        ASSERT_U64_EQ(goose__hist_percentile(h, qs[k]), v);

    uint64_t mid = goose__hist_bucket_mid(goose__hist_index(v));
    uint64_t err = mid > v ? mid - v : v - mid;
    if (v < TWO40) {
        if (err * 128 > v)
            TEST_FAIL("value %" PRIu64 ": midpoint %" PRIu64 " off by %" PRIu64,
                      v, mid, err);
        ASSERT((double)err / (double)v <= 0.01);
    }
    if (v < 128)
        ASSERT_U64_EQ(mid, v);

    /* Back to a fresh histogram without 18 KB of memset per value. */
    *goose__hist_slot(h, goose__hist_index(v)) = 0;
    h->count = h->sum = h->max = 0;
    h->min = UINT64_MAX;
}

TEST(error_bound)
{
    static goose_hist h;
    static const uint64_t edges[] = {
        1,     2,     63,    64,    127,       128,       129,       130,
        191,   192,   254,   255,   256,       257,       383,       384,
        511,   512,   (1 << 20) - 1,           1 << 20,   (1 << 20) + 1,
        999999, 1000000, 59999999, MAX_US,     TWO40 - 1, TWO40 - 2,
    };
    init_empty();
    reinit(&h);
    for (size_t k = 0; k < sizeof(edges) / sizeof(edges[0]); k++)
        check_alone(&h, edges[k]);
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        check_alone(&h, log_uniform((double)i / (n - 1)));
        if (i % 1000 == 0)
            ASSERT_HIST_EQ(&h, &empty_hist);
    }
    /* Every bucket's first value, and the last value of the one before. */
    for (unsigned i = 128; i < NB; i++) {
        unsigned e = 7 + (i - 128) / 64, m = 64 + (i - 128) % 64;
        uint64_t lo = (uint64_t)m << (e - 6);
        ASSERT_EQ(goose__hist_index(lo), i);
        ASSERT_EQ(goose__hist_index(lo - 1), i - 1);
        check_alone(&h, lo);
        check_alone(&h, lo - 1);
    }
    ASSERT_HIST_EQ(&h, &empty_hist);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

TEST(percentiles_vs_sorted)
{
    static goose_hist h;
    static const double qs[] = {0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999};
    const size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    ASSERT_NOT_NULL(v);
    rng_state = 12345;
    reinit(&h);
    for (size_t i = 0; i < n; i++) {
        v[i] = log_uniform(rng_unit());
        goose__hist_add(&h, v[i]);
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0), v[0]);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 1), v[n - 1]);
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        size_t rank = (size_t)ceil(qs[k] * (double)n);
        uint64_t exact = v[rank - 1];
        uint64_t got = goose__hist_percentile(&h, qs[k]);
        double rel = fabs((double)got - (double)exact) / (double)exact;
        if (rel > 0.01)
            TEST_FAIL("q=%g: got %" PRIu64 ", exact %" PRIu64 " (%.3f%%)",
                      qs[k], got, exact, rel * 100);
        ASSERT(rel <= 1.0 / 128);
    }
    /* A fine sweep of q as well. */
    for (int k = 1; k < 1000; k++) {
        double q = k / 1000.0;
        uint64_t exact = v[(size_t)ceil(q * (double)n) - 1];
        uint64_t got = goose__hist_percentile(&h, q);
        ASSERT(fabs((double)got - (double)exact) <= (double)exact / 128);
    }
    free(v);
}

TEST(percentile_small_exact)
{
    static goose_hist h;
    reinit(&h);
    for (uint64_t v = 1; v <= 100; v++)
        goose__hist_add(&h, v);
    /* Values below 128 are exact, so these are order statistics. */
    ASSERT_EQ(goose__hist_percentile(&h, 0.5), 50);
    ASSERT_EQ(goose__hist_percentile(&h, 0.505), 51); /* ceil(50.5) */
    ASSERT_EQ(goose__hist_percentile(&h, 0.985), 99);
    ASSERT_EQ(goose__hist_percentile(&h, 0.001), 1); /* rank at least 1 */
    ASSERT_EQ(goose__hist_percentile(&h, 0), 1);
    ASSERT_EQ(goose__hist_percentile(&h, 1), 100);
    ASSERT_EQ(goose__hist_percentile(&h, -3), 1);
    ASSERT_EQ(goose__hist_percentile(&h, 7), 100);
    ASSERT_EQ(goose__hist_percentile(&h, NAN), 1);

    /* Two values far apart: the median is the lower one's bucket. */
    reinit(&h);
    goose__hist_add(&h, 1000);
    goose__hist_add(&h, 50000);
    uint64_t lo = goose__hist_bucket_mid(goose__hist_index(1000));
    uint64_t hi = goose__hist_bucket_mid(goose__hist_index(50000));
    ASSERT_EQ(goose__hist_percentile(&h, 0.5), lo < 1000 ? 1000 : lo);
    ASSERT_EQ(goose__hist_percentile(&h, 0.51), hi > 50000 ? 50000 : hi);
    ASSERT_EQ(goose__hist_percentile(&h, 0), 1000);
}

TEST(stats_exact)
{
    static goose_hist h;
    uint64_t sum = 0, min = UINT64_MAX, max = 0;
    const uint64_t n = 100000;
    rng_state = 777;
    reinit(&h);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = log_uniform(rng_unit()) - 1; /* include 0 */
        goose__hist_add(&h, v);
        sum += v;
        min = v < min ? v : min;
        max = v > max ? v : max;
    }
    ASSERT_U64_EQ(h.count, n);
    ASSERT_U64_EQ(h.sum, sum);
    ASSERT_U64_EQ(h.min, min);
    ASSERT_U64_EQ(h.max, max);
    ASSERT(goose__hist_mean(&h) == (double)sum / (double)n);
    ASSERT_EQ(goose__hist_is_empty(&h), 0);

    reinit(&h);
    goose__hist_add(&h, 3);
    goose__hist_add(&h, 4);
    ASSERT(goose__hist_mean(&h) == 3.5);
    ASSERT_EQ(h.min, 3);
    ASSERT_EQ(h.max, 4);
    ASSERT_EQ(h.sum, 7);
}

TEST(empty)
{
    static goose_hist h;
    memset(&h, 0xab, sizeof(h));
    goose__hist_init(&h); /* init, not free: h holds no chunks of its own */
    ASSERT_EQ(goose__hist_is_empty(&h), 1);
    ASSERT_U64_EQ(h.count, 0);
    ASSERT_U64_EQ(h.sum, 0);
    ASSERT_U64_EQ(h.min, UINT64_MAX);
    ASSERT_U64_EQ(h.max, 0);
    for (unsigned i = 0; i < NB; i++)
        ASSERT_U64_EQ(goose__hist_bucket(&h, i), 0);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0), 0);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.5), 0);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 1), 0);
    ASSERT(goose__hist_mean(&h) == 0.0);

    goose__hist_add(&h, 0); /* zero is a value like any other */
    ASSERT_EQ(goose__hist_is_empty(&h), 0);
    ASSERT_U64_EQ(h.count, 1);
    ASSERT_U64_EQ(h.min, 0);
    ASSERT_U64_EQ(h.max, 0);
    ASSERT_U64_EQ(goose__hist_bucket(&h, 0), 1);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.5), 0);
}

TEST(clamp_huge)
{
    static goose_hist h;
    reinit(&h);
    goose__hist_add(&h, TWO40);
    goose__hist_add(&h, UINT64_C(1) << 50);
    ASSERT_U64_EQ(goose__hist_bucket(&h, NB - 1), 2);
    ASSERT_U64_EQ(h.count, 2);
    ASSERT_U64_EQ(h.min, TWO40);
    ASSERT_U64_EQ(h.max, UINT64_C(1) << 50);
    ASSERT_U64_EQ(h.sum, TWO40 + (UINT64_C(1) << 50));
    /* The last bucket's midpoint is below 2^40: clamped up to min. */
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.5), TWO40);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.9), TWO40);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 1), UINT64_C(1) << 50);

    reinit(&h);
    goose__hist_add(&h, UINT64_MAX);
    ASSERT_U64_EQ(goose__hist_bucket(&h, NB - 1), 1);
    ASSERT_U64_EQ(h.sum, UINT64_MAX);
    ASSERT_U64_EQ(h.min, UINT64_MAX);
    ASSERT_U64_EQ(h.max, UINT64_MAX);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.5), UINT64_MAX);

    /* Mixed with normal values, huge ones only move the top. */
    reinit(&h);
    for (int i = 0; i < 99; i++)
        goose__hist_add(&h, 1000);
    goose__hist_add(&h, UINT64_C(1) << 45);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.5),
                  goose__hist_bucket_mid(goose__hist_index(1000)));
    ASSERT_U64_EQ(goose__hist_percentile(&h, 1), UINT64_C(1) << 45);
    ASSERT_U64_EQ(goose__hist_percentile(&h, 0.995), goose__hist_bucket_mid(NB - 1));
}

static uint64_t random_value(void)
{
    switch (rng() % 16) {
    case 0: return 0;
    case 1: return TWO40 + rng() % TWO40; /* clamped */
    case 2: return rng() % 128;
    default: return log_uniform(rng_unit());
    }
}

TEST(merge)
{
    static goose_hist a, b, all, shards[8], merged;
    rng_state = 4242;
    reinit(&a);
    reinit(&b);
    reinit(&all);
    for (int i = 0; i < 8; i++)
        reinit(&shards[i]);
    for (int i = 0; i < 120000; i++) {
        uint64_t v = random_value();
        goose__hist_add(i % 3 ? &a : &b, v);
        goose__hist_add(&shards[rng() % 8], v);
        goose__hist_add(&all, v);
    }
    ASSERT(!goose__hist_equal(&a, &all));
    goose__hist_merge(&a, &b);
    ASSERT_HIST_EQ(&a, &all);

    reinit(&merged);
    for (int i = 0; i < 8; i++)
        goose__hist_merge(&merged, &shards[i]);
    ASSERT_HIST_EQ(&merged, &all);

    /* Sets of very different ranges: min from one, max from the other. */
    reinit(&a);
    reinit(&b);
    reinit(&all);
    for (uint64_t v = 5; v < 50; v++) {
        goose__hist_add(&a, v * 1000);
        goose__hist_add(&b, v);
        goose__hist_add(&all, v * 1000);
        goose__hist_add(&all, v);
    }
    goose__hist_merge(&a, &b);
    ASSERT_HIST_EQ(&a, &all);
    ASSERT_EQ(a.min, 5);
    ASSERT_EQ(a.max, 49000);
}

TEST(merge_empty)
{
    static goose_hist h, copy, e1, e2;
    init_empty();
    rng_state = 99;
    reinit(&h);
    for (int i = 0; i < 1000; i++)
        goose__hist_add(&h, random_value());
    ASSERT_EQ(goose__hist_copy(&copy, &h), 0);

    reinit(&e1);
    goose__hist_merge(&h, &e1); /* x + 0 = x */
    ASSERT_HIST_EQ(&h, &copy);
    goose__hist_merge(&e1, &h); /* 0 + x = x */
    ASSERT_HIST_EQ(&e1, &copy);

    reinit(&e1);
    reinit(&e2);
    goose__hist_merge(&e1, &e2); /* 0 + 0 = 0 */
    ASSERT_HIST_EQ(&e1, &empty_hist);
    ASSERT_EQ(goose__hist_is_empty(&e1), 1);
    ASSERT_U64_EQ(goose__hist_percentile(&e1, 0.5), 0);
}

/* Fills *h with a few kinds of histograms, by number. */
static void sample_hist(goose_hist *h, int kind)
{
    reinit(h);
    rng_state = 1000 + (uint64_t)kind;
    switch (kind) {
    case 0: break; /* empty */
    case 1: goose__hist_add(h, 0); break;
    case 2: goose__hist_add(h, 1234567); break;
    case 3: goose__hist_add(h, UINT64_MAX); break;
    case 4:
        for (int i = 0; i < 50000; i++)
            goose__hist_add(h, random_value());
        break;
    case 5: /* every bucket used */
        for (unsigned i = 0; i < NB; i++)
            goose__hist_add(h, goose__hist_bucket_mid(i));
        goose__hist_add(h, UINT64_MAX);
        break;
    default: /* counts that need long varints */
        for (int i = 0; i < 300; i++)
            goose__hist_add(h, 100 + (uint64_t)i * 997);
        *goose__hist_slot(h, goose__hist_index(100)) += UINT64_C(1) << 62;
        h->count += UINT64_C(1) << 62;
        break;
    }
}
#define SAMPLE_KINDS 7

TEST(encode_roundtrip)
{
    static goose_hist h, back;
    size_t max = goose__hist_encoded_max();
    unsigned char *buf = malloc(max + 16);
    ASSERT_NOT_NULL(buf);
    init_empty();
    for (int kind = 0; kind < SAMPLE_KINDS; kind++) {
        sample_hist(&h, kind);
        memset(buf, 0xee, max + 16);
        size_t n = goose__hist_encode(&h, buf);
        ASSERT_LE(n, max);
        for (size_t i = max; i < max + 16; i++)
            ASSERT_EQ(buf[i], 0xee);
        /* Exact-size copy, so ASan sees any read past the end. */
        unsigned char *exact = malloc(n);
        ASSERT_NOT_NULL(exact);
        memcpy(exact, buf, n);
        sample_hist(&back, 4); /* decode must overwrite everything */
        ASSERT_EQ(goose__hist_decode(&back, exact, n), 0);
        ASSERT_HIST_EQ(&back, &h);
        free(exact);
        if (kind == 0)
            ASSERT_LE(n, 16); /* empty is tiny */
        if (kind == 2)
            ASSERT_LE(n, 20); /* sparse: one bucket, not 2240 */
    }
    /* The bound holds for a worst case: every bucket at a huge count. */
    reinit(&h);
    for (unsigned i = 0; i < NB; i++)
        *goose__hist_slot(&h, i) = UINT64_MAX / NB;
    h.count = (UINT64_MAX / NB) * NB;
    h.sum = UINT64_MAX;
    h.min = 0;
    h.max = UINT64_MAX;
    size_t n = goose__hist_encode(&h, buf);
    ASSERT_LE(n, max);
    ASSERT_EQ(goose__hist_decode(&back, buf, n), 0);
    ASSERT_HIST_EQ(&back, &h);
    free(buf);
}

TEST(decode_truncated)
{
    static goose_hist h, back;
    unsigned char *buf = malloc(goose__hist_encoded_max());
    ASSERT_NOT_NULL(buf);
    init_empty();
    for (int kind = 0; kind < SAMPLE_KINDS; kind++) {
        sample_hist(&h, kind);
        size_t n = goose__hist_encode(&h, buf);
        for (size_t len = 0; len < n; len++) {
            unsigned char *p = malloc(len ? len : 1);
            ASSERT_NOT_NULL(p);
            memcpy(p, buf, len);
            reinit(&back);
            goose__hist_add(&back, 5); /* must be emptied */
            if (goose__hist_decode(&back, p, len) != -1)
                TEST_FAIL("kind %d: prefix %zu of %zu accepted", kind, len, n);
            ASSERT_HIST_EQ(&back, &empty_hist);
            free(p);
        }
        /* Anything appended is rejected too. */
        for (unsigned extra = 1; extra <= 3; extra++) {
            for (unsigned byte = 0; byte < 256; byte += 17) {
                unsigned char *p = malloc(n + extra);
                ASSERT_NOT_NULL(p);
                memcpy(p, buf, n);
                memset(p + n, (int)byte, extra);
                ASSERT_EQ(goose__hist_decode(&back, p, n + extra), -1);
                ASSERT_HIST_EQ(&back, &empty_hist);
                free(p);
            }
        }
    }
    ASSERT_EQ(goose__hist_decode(&back, NULL, 0), -1);
    ASSERT_HIST_EQ(&back, &empty_hist);
    free(buf);
}

/* Decodes a mutated buffer: it is either rejected (h left empty) or is a
 * consistent histogram whose encoding is byte-for-byte the input (the
 * format is canonical, so nothing is silently reinterpreted). */
static int decode_check(const unsigned char *p, size_t len, unsigned char *scratch)
{
    static goose_hist h;
    unsigned char *exact = malloc(len ? len : 1);
    ASSERT_NOT_NULL(exact);
    memcpy(exact, p, len);
    reinit(&h);
    goose__hist_add(&h, 77);
    int r = goose__hist_decode(&h, exact, len);
    free(exact);
    if (r != 0) {
        ASSERT_EQ(r, -1);
        ASSERT_HIST_EQ(&h, &empty_hist);
        return -1;
    }
    assert_consistent(&h);
    size_t n = goose__hist_encode(&h, scratch);
    ASSERT_EQ(n, len);
    ASSERT(memcmp(scratch, p, len) == 0);
    return 0;
}

TEST(decode_corrupt)
{
    static goose_hist h;
    size_t max = goose__hist_encoded_max();
    unsigned char *buf = malloc(max), *mut = malloc(max), *scratch = malloc(max);
    ASSERT(buf && mut && scratch);
    static const unsigned char masks[] = {0x01, 0x02, 0x04, 0x08, 0x10,
                                          0x20, 0x40, 0x80, 0xff, 0x7f};
    init_empty();
    for (int kind = 0; kind < SAMPLE_KINDS; kind++) {
        sample_hist(&h, kind);
        size_t n = goose__hist_encode(&h, buf);
        size_t step = n > 4000 ? 7 : 1; /* the all-buckets case is big */
        size_t rejected = 0, tried = 0;
        for (size_t i = 0; i < n; i += step) {
            for (size_t k = 0; k < sizeof(masks); k++) {
                memcpy(mut, buf, n);
                mut[i] ^= masks[k];
                rejected += decode_check(mut, n, scratch) != 0;
                tried++;
            }
        }
        /* The version byte and the count are always checked. */
        for (size_t k = 0; k < sizeof(masks); k++) {
            memcpy(mut, buf, n);
            mut[0] ^= masks[k];
            ASSERT_EQ(decode_check(mut, n, scratch), -1);
            memcpy(mut, buf, n);
            mut[1] ^= masks[k] & 0x7f; /* count's low bits, same length */
            if (masks[k] & 0x7f)
                ASSERT_EQ(decode_check(mut, n, scratch), -1);
        }
        ASSERT_GT(rejected, tried / 2);
    }
    free(buf);
    free(mut);
    free(scratch);
}

static size_t put(unsigned char *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

/* Builds "version, count, sum, min, max, pairs..." by hand. */
static size_t build(unsigned char *out, int version, uint64_t count,
                    uint64_t sum, uint64_t min, uint64_t max,
                    const uint64_t *pairs, size_t npairs)
{
    size_t n = 0;
    out[n++] = (unsigned char)version;
    n += put(out + n, count);
    n += put(out + n, sum);
    n += put(out + n, min);
    n += put(out + n, max);
    for (size_t i = 0; i < 2 * npairs; i++)
        n += put(out + n, pairs[i]);
    return n;
}

static int try_decode(const unsigned char *p, size_t len)
{
    static goose_hist h;
    unsigned char *exact = malloc(len ? len : 1);
    ASSERT_NOT_NULL(exact);
    memcpy(exact, p, len);
    int r = goose__hist_decode(&h, exact, len);
    free(exact);
    if (r != 0)
        ASSERT_HIST_EQ(&h, &empty_hist);
    return r;
}

TEST(decode_malformed)
{
    unsigned char b[256];
    size_t n;
    init_empty();
    uint64_t i100 = goose__hist_index(100), i5000 = goose__hist_index(5000);

    /* The well-formed baseline these cases break: {100, 5000}. */
    uint64_t ok[] = {i100, 1, i5000 - i100 - 1, 1};
    n = build(b, 1, 2, 5100, 100, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), 0);
    n = build(b, 1, 0, 0, UINT64_MAX, 0, NULL, 0);
    ASSERT_EQ(try_decode(b, n), 0);

    /* Header. */
    ASSERT_EQ(try_decode(b, 0), -1);
    n = build(b, 0, 2, 5100, 100, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 2, 2, 5100, 100, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 2, 5100, 5000, 100, ok, 2); /* min > max */
    ASSERT_EQ(try_decode(b, n), -1);

    /* Empty histograms must look empty. */
    n = build(b, 1, 0, 1, UINT64_MAX, 0, NULL, 0);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 0, 0, 5, 0, NULL, 0);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 0, 0, UINT64_MAX, 5, NULL, 0);
    ASSERT_EQ(try_decode(b, n), -1);
    uint64_t zero_pair[] = {0, 0};
    n = build(b, 1, 0, 0, UINT64_MAX, 0, zero_pair, 1);
    ASSERT_EQ(try_decode(b, n), -1);

    /* Indexes past the last bucket. */
    uint64_t past[] = {NB, 1};
    n = build(b, 1, 1, 1, UINT64_MAX, UINT64_MAX, past, 1);
    ASSERT_EQ(try_decode(b, n), -1);
    uint64_t last[] = {NB - 1, 1}; /* the last one is fine */
    n = build(b, 1, 1, UINT64_MAX, UINT64_MAX, UINT64_MAX, last, 1);
    ASSERT_EQ(try_decode(b, n), 0);
    uint64_t past2[] = {NB - 1, 1, 0, 1};
    n = build(b, 1, 2, 0, UINT64_MAX, UINT64_MAX, past2, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    uint64_t wrap[] = {i100, 1, UINT64_MAX - i100, 1}; /* delta wraps */
    n = build(b, 1, 2, 5100, 100, 5000, wrap, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    uint64_t wrap32[] = {i100, 1, (UINT64_C(1) << 32) - i100 - 1, 1};
    n = build(b, 1, 2, 5100, 100, 5000, wrap32, 2);
    ASSERT_EQ(try_decode(b, n), -1);

    /* Bucket counts: zero, short of count, over count, overflowing. */
    uint64_t zero[] = {i100, 1, 0, 0, i5000 - i100 - 2, 1};
    n = build(b, 1, 2, 5100, 100, 5000, zero, 3);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 3, 5100, 100, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 1, 5100, 100, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    uint64_t big[] = {i100, UINT64_MAX, i5000 - i100 - 1, 2}; /* sums to 1 */
    n = build(b, 1, 1, 5100, 100, 5000, big, 2);
    ASSERT_EQ(try_decode(b, n), -1);

    /* min and max must sit in the first and last used buckets. */
    n = build(b, 1, 2, 5100, 90, 5000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);
    n = build(b, 1, 2, 5100, 100, 6000, ok, 2);
    ASSERT_EQ(try_decode(b, n), -1);

    /* Varints: overlong, too long, more than 64 bits. */
    n = build(b, 1, 2, 5100, 100, 5000, ok, 2);
    unsigned char ol[256] = {1, 0x82, 0x00}; /* count 2 as two bytes */
    memcpy(ol + 3, b + 2, n - 2);
    ASSERT_EQ(try_decode(ol, n + 1), -1);
    unsigned char eleven[64] = {1};
    memset(eleven + 1, 0x80, 10);
    eleven[11] = 0x01;
    ASSERT_EQ(try_decode(eleven, 12), -1);
    unsigned char over[64] = {1};
    memset(over + 1, 0xff, 9);
    over[10] = 0x02; /* 2^64 */
    ASSERT_EQ(try_decode(over, 11), -1);
    over[10] = 0x01; /* UINT64_MAX is a fine count... */
    ASSERT_EQ(try_decode(over, 11), -1); /* ...but nothing follows it */
}

TEST(decode_fuzz)
{
    size_t max = goose__hist_encoded_max();
    unsigned char *scratch = malloc(max), buf[96];
    ASSERT_NOT_NULL(scratch);
    init_empty();
    rng_state = 31337;
    int accepted = 0;
    for (int i = 0; i < 200000; i++) {
        size_t len = rng() % sizeof(buf);
        for (size_t k = 0; k < len; k++) {
            /* Mostly small bytes, so varints end and pairs parse. */
            uint64_t r = rng();
            buf[k] = (unsigned char)(r & 8 ? r >> 8 & 0x7f : r >> 8 & 0x03);
        }
        if (len && rng() % 4)
            buf[0] = 1;
        accepted += decode_check(buf, len, scratch) == 0;
    }
    /* Mutations of real encodings: several bytes changed at once. */
    static goose_hist h;
    unsigned char *enc = malloc(max), *mut = malloc(max);
    ASSERT(enc && mut);
    for (int kind = 1; kind < SAMPLE_KINDS; kind++) {
        sample_hist(&h, kind);
        size_t n = goose__hist_encode(&h, enc);
        for (int i = 0; i < 3000; i++) {
            memcpy(mut, enc, n);
            int edits = 1 + (int)(rng() % 4);
            for (int e = 0; e < edits; e++)
                mut[rng() % n] = (unsigned char)rng();
            size_t len = rng() % 8 ? n : rng() % n;
            accepted += decode_check(mut, len, scratch) == 0;
        }
    }
    printf("decode_fuzz: %d inputs accepted (all consistent)\n", accepted);
    free(scratch);
    free(enc);
    free(mut);
}

/* ---- the chunked buckets against the flat array they replaced ---- */

/* The histogram as it was before buckets came in chunks: one flat array,
 * written here from the layout (ref_index) and the documented rules, so
 * the chunked one must give the same answers and the same bytes. */
typedef struct dense {
    uint64_t count, sum, min, max;
    uint64_t b[NB];
} dense;

static void dense_init(dense *d)
{
    memset(d, 0, sizeof *d);
    d->min = UINT64_MAX;
}

static void dense_add(dense *d, uint64_t v)
{
    d->b[ref_index(v)]++;
    d->count++;
    d->sum += v;
    d->min = v < d->min ? v : d->min;
    d->max = v > d->max ? v : d->max;
}

static void dense_merge(dense *d, const dense *s)
{
    for (unsigned i = 0; i < NB; i++)
        d->b[i] += s->b[i];
    d->count += s->count;
    d->sum += s->sum;
    d->min = s->min < d->min ? s->min : d->min;
    d->max = s->max > d->max ? s->max : d->max;
}

/* The midpoint of the bucket of the ceil(q*count)-th value, in [min,max]. */
static uint64_t dense_percentile(const dense *d, double q)
{
    if (!d->count)
        return 0;
    if (!(q > 0))
        return d->min;
    if (q >= 1)
        return d->max;
    double x = ceil(q * (double)d->count);
    uint64_t rank = x >= (double)d->count ? d->count : (uint64_t)x, seen = 0;
    rank = rank < 1 ? 1 : rank;
    for (unsigned i = 0; i < NB; i++) {
        seen += d->b[i];
        if (seen >= rank) {
            uint64_t mid = goose__hist_bucket_mid(i);
            return mid < d->min ? d->min : mid > d->max ? d->max : mid;
        }
    }
    return d->max;
}

/* The documented encoding: version 1, LEB128 count, sum, min, max, then
 * (gap, count) for each used bucket. */
static size_t dense_encode(const dense *d, unsigned char *out)
{
    size_t n = 0;
    out[n++] = 1;
    n += put(out + n, d->count);
    n += put(out + n, d->sum);
    n += put(out + n, d->min);
    n += put(out + n, d->max);
    unsigned prev = (unsigned)-1;
    for (unsigned i = 0; i < NB && d->count; i++) {
        if (!d->b[i])
            continue;
        n += put(out + n, i - prev - 1);
        n += put(out + n, d->b[i]);
        prev = i;
    }
    return n;
}

static void assert_same(const goose_hist *h, const dense *d, unsigned char *e1,
                        unsigned char *e2)
{
    static const double qs[] = {0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    ASSERT_U64_EQ(h->count, d->count);
    ASSERT_U64_EQ(h->sum, d->sum);
    ASSERT_U64_EQ(h->min, d->min);
    ASSERT_U64_EQ(h->max, d->max);
    for (unsigned i = 0; i < NB; i++)
        ASSERT_U64_EQ(goose__hist_bucket(h, i), d->b[i]);
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
        ASSERT_U64_EQ(goose__hist_percentile(h, qs[k]), dense_percentile(d, qs[k]));
    /* count_upto: whole buckets below at's, and at's when its midpoint is
       at most at */
    uint64_t at = d->count ? d->min + (d->max - d->min) / 2 : 7, upto = 0;
    unsigned last = ref_index(at);
    for (unsigned i = 0; i < last; i++)
        upto += d->b[i];
    if (goose__hist_bucket_mid(last) <= at)
        upto += d->b[last];
    if (d->count && at >= d->max)
        upto = d->count;
    if (!d->count || at < d->min)
        upto = 0;
    ASSERT_U64_EQ(goose__hist_count_upto(h, at), upto);
    size_t n1 = goose__hist_encode(h, e1), n2 = dense_encode(d, e2);
    ASSERT_EQ(n1, n2);
    ASSERT(memcmp(e1, e2, n1) == 0);
}

/* Values a request key sees: mostly a narrow band around a typical time,
 * now and then anything. */
static uint64_t key_value(uint64_t typical)
{
    if (rng() % 8 == 0)
        return random_value();
    return typical / 2 + rng() % (typical + 1);
}

/* Random histograms of a few values (what most dynamic keys hold) and of
 * many, built, merged, copied and decoded: the same as the flat array. */
TEST(chunks_match_flat_buckets)
{
    static goose_hist h[3], back;
    static dense d[3];
    size_t max = goose__hist_encoded_max();
    unsigned char *e1 = malloc(max), *e2 = malloc(max);
    ASSERT(e1 && e2);
    rng_state = 20261207;
    for (int round = 0; round < 600; round++) {
        uint64_t typical = log_uniform(rng_unit());
        for (int k = 0; k < 2; k++) {
            reinit(&h[k]);
            dense_init(&d[k]);
            uint64_t n = round % 3 == 0 ? rng() % 4 : round % 3 == 1 ? rng() % 40 : rng() % 5000;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t v = key_value(typical);
                ASSERT_EQ(goose__hist_add(&h[k], v), 0);
                dense_add(&d[k], v);
            }
            assert_same(&h[k], &d[k], e1, e2);
        }
        /* merge, both ways round through a copy */
        reinit(&h[2]);
        ASSERT_EQ(goose__hist_copy(&h[2], &h[1]), 0);
        d[2] = d[1];
        ASSERT_EQ(goose__hist_merge(&h[2], &h[0]), 0);
        dense_merge(&d[2], &d[0]);
        assert_same(&h[2], &d[2], e1, e2);
        ASSERT_EQ(goose__hist_merge(&h[0], &h[1]), 0);
        ASSERT_HIST_EQ(&h[0], &h[2]);
        /* and what decodes from the bytes is the same again */
        size_t n = goose__hist_encode(&h[2], e1);
        ASSERT_EQ(goose__hist_decode(&back, e1, n), 0);
        assert_same(&back, &d[2], e1, e2);
    }
    for (int k = 0; k < 3; k++)
        goose__hist_free(&h[k]);
    goose__hist_free(&back);
    free(e1);
    free(e2);
}

/* A key seen a few times costs about 2 KB at most: its chunks (one per
 * power of two its values span) and the struct; a flat array was 17.5 KB
 * whatever it held.  A histogram with every bucket used holds every chunk,
 * no more than the flat array did. */
TEST(few_values_stay_small)
{
    static goose_hist h;
    rng_state = 5;
    for (int round = 0; round < 2000; round++) {
        reinit(&h);
        uint64_t typical = log_uniform(rng_unit());
        int n = 1 + (int)(rng() % 5);
        for (int i = 0; i < n; i++)
            goose__hist_add(&h, typical / 2 + rng() % (typical + 1));
        /* typical/2 .. 3*typical/2 spans at most 2 powers of two (+1 below 128) */
        ASSERT_LE(goose__hist_heap_bytes(&h), 3 * 64 * sizeof(uint64_t));
        ASSERT_LE(sizeof h + goose__hist_heap_bytes(&h), 2048);
    }
    reinit(&h);
    ASSERT_EQ(goose__hist_heap_bytes(&h), 0); /* empty: nothing */
    goose__hist_add(&h, 250000);
    ASSERT_EQ(goose__hist_heap_bytes(&h), 64 * sizeof(uint64_t));
    for (unsigned i = 0; i < NB; i++)
        goose__hist_add(&h, goose__hist_bucket_mid(i));
    ASSERT_EQ(goose__hist_heap_bytes(&h), NB * sizeof(uint64_t));
    goose__hist_free(&h);
    ASSERT_EQ(goose__hist_heap_bytes(&h), 0);
}

TEST_MAIN(TEST_ENTRY(layout), TEST_ENTRY(error_bound),
          TEST_ENTRY(percentiles_vs_sorted), TEST_ENTRY(percentile_small_exact),
          TEST_ENTRY(stats_exact), TEST_ENTRY(empty), TEST_ENTRY(clamp_huge),
          TEST_ENTRY(merge), TEST_ENTRY(merge_empty),
          TEST_ENTRY(encode_roundtrip), TEST_ENTRY(decode_truncated),
          TEST_ENTRY(decode_corrupt), TEST_ENTRY(decode_malformed),
          TEST_ENTRY(decode_fuzz), TEST_ENTRY(chunks_match_flat_buckets),
          TEST_ENTRY(few_values_stay_small))
