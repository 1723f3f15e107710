/* Monotonic time in microseconds (CLOCK_MONOTONIC, never wall time). */
#ifndef GOOSE_UTIL_CLOCK_H
#define GOOSE_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t goose__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
