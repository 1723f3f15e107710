/* Mergeable log-linear histogram of response times in microseconds.
 * Fixed memory, <= 1% relative error on percentiles, merged by addition. */
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

typedef struct goose_hist {
    uint64_t count;
    uint64_t sum;  /* exact, for the mean */
    uint64_t min;  /* exact; UINT64_MAX when empty */
    uint64_t max;  /* exact; 0 when empty */
    uint64_t buckets[GOOSE_HIST_BUCKETS];
} goose_hist;

void goose__hist_init(goose_hist *h);
void goose__hist_add(goose_hist *h, uint64_t us);
/* Adds the n values first, first - step, ..., first - (n-1)*step (all
 * must be >= 0) in time bounded by the number of buckets, not by n. */
void goose__hist_add_series(goose_hist *h, uint64_t first, uint64_t step, uint64_t n);
/* dst += src */
void goose__hist_merge(goose_hist *dst, const goose_hist *src);
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
int goose__hist_decode(goose_hist *h, const unsigned char *in, size_t len);

#endif
