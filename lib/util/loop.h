/* An event loop on a thread of its own (the Prometheus endpoint, the
 * --controller server), stopped from any thread through an eventfd. */
#ifndef GOOSE_UTIL_LOOP_H
#define GOOSE_UTIL_LOOP_H

#include <event2/event.h>
#include <pthread.h>

typedef struct goose_loop {
    struct event_base *base;
    struct event *quit;  /* on wake_fd: ends the loop */
    int wake_fd;
    int started;
    pthread_t thread;
} goose_loop;

/* The base, ready for listeners; -1 on failure. */
int goose__loop_init(goose_loop *l);
/* Runs the loop on its thread (SIGPIPE blocked there); -1 on failure. */
int goose__loop_start(goose_loop *l);
/* Ends the loop and joins its thread; then frees what init made.  Whatever
 * was added to the base must be freed between the two. */
void goose__loop_stop(goose_loop *l);
void goose__loop_free(goose_loop *l);

#endif
