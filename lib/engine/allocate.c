/* Users to scenarios by weight, the same way every time: weights are
 * divided by their greatest common divisor, then user slots cycle through
 * the scenarios in registration order, each taking as many consecutive
 * slots as its weight.  8 users at weights 3:1 give A A A B A A A B:
 * 6 and 2.  A Gaggle does this once on the Manager and hands out slots.
 * Iterations of the open model (--arrival-rate) take scenarios the same
 * way: arrival k runs the scenario that user k would, and the j-th arrival
 * of a scenario goes to its users in turn. */
#include "engine/engine.h"

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The greatest common divisor of the weights, 0 when one is 0. */
static unsigned common_divisor(const unsigned *weights, size_t nweights)
{
    unsigned g = 0;
    for (size_t i = 0; i < nweights; i++) {
        if (weights[i] == 0)
            return 0;
        g = gcd(g, weights[i]);
    }
    return g;
}

static unsigned slot_scenario(const unsigned *weights, unsigned g, unsigned long long cycle,
                              unsigned long long index)
{
    unsigned long long slot = index % cycle;
    size_t s = 0;
    while (slot >= weights[s] / g) {
        slot -= weights[s] / g;
        s++;
    }
    return (unsigned)s;
}

static unsigned long long cycle_length(const unsigned *weights, size_t nweights, unsigned g)
{
    unsigned long long cycle = 0;
    for (size_t i = 0; i < nweights; i++)
        cycle += weights[i] / g;
    return cycle;
}

int goose__allocate_users(const unsigned *weights, size_t nweights,
                          size_t users, unsigned *out)
{
    unsigned g = common_divisor(weights, nweights);
    if (g == 0)
        return -1;
    unsigned long long cycle = cycle_length(weights, nweights, g);
    for (size_t u = 0; u < users; u++)
        out[u] = slot_scenario(weights, g, cycle, u);
    return 0;
}

unsigned goose__scenario_at(const unsigned *weights, size_t nweights, uint64_t index)
{
    unsigned g = common_divisor(weights, nweights);
    return g ? slot_scenario(weights, g, cycle_length(weights, nweights, g), index) : 0;
}

/* Where scenario s sits in one turn of the cycle: its first slot, and how
 * many it takes; the turn's length is returned. */
static uint64_t block_of(const unsigned *weights, size_t nweights, unsigned s, uint64_t *first,
                         uint64_t *size)
{
    unsigned g = common_divisor(weights, nweights);
    *first = *size = 0;
    if (g == 0)
        return 0;
    for (unsigned i = 0; i < s; i++)
        *first += weights[i] / g;
    *size = weights[s] / g;
    return cycle_length(weights, nweights, g);
}

uint64_t goose__scenario_ordinal(const unsigned *weights, size_t nweights, uint64_t index,
                                 unsigned *scenario)
{
    unsigned s = goose__scenario_at(weights, nweights, index);
    uint64_t first, size, cycle = block_of(weights, nweights, s, &first, &size);
    *scenario = s;
    return cycle ? index / cycle * size + (index % cycle - first) : 0;
}

uint64_t goose__scenario_user(const unsigned *weights, size_t nweights, unsigned s, uint64_t m)
{
    uint64_t first, size, cycle = block_of(weights, nweights, s, &first, &size);
    return size ? m / size * cycle + first + m % size : 0;
}

uint64_t goose__scenario_users(const unsigned *weights, size_t nweights, unsigned s,
                               uint64_t users)
{
    uint64_t first, size, cycle = block_of(weights, nweights, s, &first, &size);
    if (!cycle)
        return 0;
    uint64_t rest = users % cycle;
    return users / cycle * size + (rest > first ? (rest - first < size ? rest - first : size) : 0);
}
