/* Small per-user random numbers (xorshift64*): no shared state, no locks. */
#ifndef GOOSE_UTIL_RNG_H
#define GOOSE_UTIL_RNG_H

#include <stdint.h>

static inline uint64_t goose__rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A seed that is never zero (xorshift's one fixed point). */
static inline uint64_t goose__rng_seed(uint64_t a, uint64_t b)
{
    uint64_t s = (a + 0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL ^ b;
    s ^= s >> 31;
    return s ? s : 0x9E3779B97F4A7C15ULL;
}

/* Uniform in [lo, hi] (inclusive). */
static inline uint64_t goose__rng_range(uint64_t *state, uint64_t lo,
                                        uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + goose__rng_next(state) % (hi - lo + 1);
}

#endif
