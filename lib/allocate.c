/* Users to scenarios by weight, the same way every time: weights are
 * divided by their greatest common divisor, then user slots cycle through
 * the scenarios in registration order, each taking as many consecutive
 * slots as its weight.  8 users at weights 3:1 give A A A B A A A B:
 * 6 and 2.  A Gaggle does this once on the Manager and hands out slots. */
#include "attack.h"

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int goose__allocate_users(const unsigned *weights, size_t nweights,
                          size_t users, unsigned *out)
{
    if (nweights == 0)
        return -1;
    unsigned g = 0;
    for (size_t i = 0; i < nweights; i++) {
        if (weights[i] == 0)
            return -1;
        g = gcd(g, weights[i]);
    }
    unsigned long long cycle = 0;
    for (size_t i = 0; i < nweights; i++)
        cycle += weights[i] / g;
    for (size_t u = 0; u < users; u++) {
        unsigned long long slot = u % cycle;
        size_t s = 0;
        while (slot >= weights[s] / g) {
            slot -= weights[s] / g;
            s++;
        }
        out[u] = (unsigned)s;
    }
    return 0;
}
