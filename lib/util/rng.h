/* Small per-user random numbers (xorshift64*): no shared state, no locks.
 * A user's own generator (goose_user_random) is xoshiro256**, seeded by
 * splitmix64 from the run's seed and the user's index, as its authors
 * advise (https://prng.di.unimi.it/). */
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

/* splitmix64: one step of the state, one well-mixed output. */
static inline uint64_t goose__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct goose_xoshiro {
    uint64_t s[4];
} goose_xoshiro;

/* The stream of (seed, stream, index): streams of different indexes (or
 * purposes) start from unrelated states; splitmix64 never gives the
 * all-zero state from four outputs in a row. */
static inline void goose__xoshiro_seed(goose_xoshiro *x, uint64_t seed, uint64_t stream,
                                       uint64_t index)
{
    uint64_t sm = seed;
    uint64_t k = goose__splitmix64(&sm) ^ stream;
    sm = k;
    k = goose__splitmix64(&sm) ^ index;
    sm = k;
    for (int i = 0; i < 4; i++)
        x->s[i] = goose__splitmix64(&sm);
}

static inline uint64_t goose__rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: 2^256 - 1 period, passes BigCrush and PractRand. */
static inline uint64_t goose__xoshiro_next(goose_xoshiro *x)
{
    uint64_t *s = x->s;
    uint64_t result = goose__rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = goose__rotl64(s[3], 45);
    return result;
}

#endif
