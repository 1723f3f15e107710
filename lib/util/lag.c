/* Loop lateness and run-queue time (see lag.h). */
#include "util/lag.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void goose__lag_start(goose_lag *l, uint64_t period_us, uint64_t now_us)
{
    l->period_us = period_us;
    l->due_us = now_us + period_us;
    l->total_us = 0;
}

uint64_t goose__lag_note(goose_lag *l, uint64_t now_us)
{
    uint64_t late = now_us > l->due_us ? now_us - l->due_us : 0;
    l->total_us += late;
    l->due_us = now_us + l->period_us;
    return late;
}

int goose__runq_open(void)
{
    return open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

/* schedstat: ns on a CPU, ns waiting on a run queue, time slices. */
int64_t goose__runq_us(int fd)
{
    char buf[96];
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    unsigned long long ran, waited;
    if (sscanf(buf, "%llu %llu", &ran, &waited) != 2)
        return -1;
    return (int64_t)(waited / 1000);
}

const char *goose__group_digits(uint64_t n, char *buf, size_t len)
{
    char plain[24];
    int digits = snprintf(plain, sizeof plain, "%" PRIu64, n);
    size_t at = 0;
    for (int i = 0; i < digits && at + 1 < len; i++) {
        if (i > 0 && (digits - i) % 3 == 0 && at + 2 < len)
            buf[at++] = ',';
        buf[at++] = plain[i];
    }
    if (len)
        buf[at < len ? at : len - 1] = '\0';
    return buf;
}
