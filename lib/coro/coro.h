/* Stackful coroutines for virtual users: an mmap'd stack with a guard page
 * below it, and a context switch of a few instructions (x86-64, aarch64)
 * or ucontext elsewhere.  A coroutine runs until it yields; only the
 * thread that created it may resume it. */
#ifndef GOOSE_CORO_CORO_H
#define GOOSE_CORO_CORO_H

#include <stddef.h>

typedef struct goose_coro goose_coro;
typedef void (*goose_coro_fn)(void *arg);

/* The stack size is rounded up to whole pages; NULL when out of memory. */
goose_coro *goose__coro_new(size_t stack_size, goose_coro_fn fn, void *arg);
void goose__coro_free(goose_coro *coro);
/* Reuses a finished coroutine's stack for a new function; -1 if running. */
int goose__coro_restart(goose_coro *coro, goose_coro_fn fn, void *arg);
/* Runs the coroutine until it yields or its function returns. */
void goose__coro_resume(goose_coro *coro);
/* From inside a coroutine: back to whoever resumed it. */
void goose__coro_yield(void);
/* Runs fn(arg) on the thread's own stack (the engine thread's, megabytes)
 * and returns when it is done: for library calls that recurse or take big
 * stack buffers (jansson, PCRE2) a small coroutine stack could not hold.
 * From inside a coroutine it yields with the call pending; the resumer
 * runs it and switches back (a resumer that is itself a coroutine passes
 * it on the same way).  fn must not yield; while it runs,
 * goose__coro_current() is NULL.  Outside any coroutine it calls fn. */
void goose__coro_call(goose_coro_fn fn, void *arg);
int goose__coro_finished(const goose_coro *coro);
/* 1 while the coroutine runs (this thread is on its stack); 0 for NULL. */
int goose__coro_running(const goose_coro *coro);
/* The coroutine running on this thread, or NULL. */
goose_coro *goose__coro_current(void);
/* The name of the switch in use ("x86_64", "aarch64" or "ucontext"). */
const char *goose__coro_backend(void);

#endif
