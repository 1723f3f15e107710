/* How late an event loop runs.  A periodic timer notes, on a fresh
 * monotonic clock (never the loop's cached time), how late it fired: time
 * its loop was blocked (a long callback, a blocking call) or starved (no
 * CPU for the process, a SIGSTOP).  The lateness adds up, so a timeout can
 * leave out the time its own loop was not looking. */
#ifndef GOOSE_UTIL_LAG_H
#define GOOSE_UTIL_LAG_H

#include <stddef.h>
#include <stdint.h>

typedef struct goose_lag {
    uint64_t period_us;  /* of the timer that notes it */
    uint64_t due_us;     /* its next firing */
    uint64_t total_us;   /* every lateness so far */
} goose_lag;

void goose__lag_start(goose_lag *l, uint64_t period_us, uint64_t now_us);
/* The timer fired at now_us: how late it was (0 when on time). */
uint64_t goose__lag_note(goose_lag *l, uint64_t now_us);

/* The calling thread's time spent waiting for a CPU, read from an fd that
 * thread opened with goose__runq_open(): what tells a thread starved by a
 * busy machine from one blocked by its own code.  -1 when unknown. */
int goose__runq_open(void);
int64_t goose__runq_us(int fd);

/* "1,000": n with its thousands grouped, for a log line. */
const char *goose__group_digits(uint64_t n, char *buf, size_t len);

#endif
