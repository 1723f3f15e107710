/* The coroutine switch: order of execution, many live coroutines, deep
 * stacks, the guard page. */
#include "test.h"

#include "coro/coro.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int trace[16];
static int ntrace;

static void two_steps(void *arg)
{
    int id = *(int *)arg;
    trace[ntrace++] = id;
    goose__coro_yield();
    trace[ntrace++] = id + 10;
}

TEST(resume_yield_order)
{
    int a = 1, b = 2;
    goose_coro *ca = goose__coro_new(64 * 1024, two_steps, &a);
    goose_coro *cb = goose__coro_new(64 * 1024, two_steps, &b);
    ASSERT_NOT_NULL(ca);
    ASSERT_NOT_NULL(cb);
    ASSERT_NULL(goose__coro_current());
    goose__coro_resume(ca);
    goose__coro_resume(cb);
    ASSERT(!goose__coro_finished(ca));
    goose__coro_resume(cb);
    goose__coro_resume(ca);
    ASSERT(goose__coro_finished(ca));
    ASSERT(goose__coro_finished(cb));
    goose__coro_resume(ca); /* a finished coroutine stays finished */
    ASSERT_EQ(ntrace, 4);
    ASSERT_EQ(trace[0], 1);
    ASSERT_EQ(trace[1], 2);
    ASSERT_EQ(trace[2], 12);
    ASSERT_EQ(trace[3], 11);
    goose__coro_free(ca);
    goose__coro_free(cb);
    goose__coro_free(NULL);
}

static void counter(void *arg)
{
    long *n = arg;
    for (int i = 0; i < 100; i++) {
        double f = (double)*n * 1.5; /* keep the FPU busy across switches */
        *n = (long)(f / 1.5) + 1;
        goose__coro_yield();
    }
}

TEST(many_coroutines_interleave)
{
    enum { N = 1000 };
    static goose_coro *c[N];
    static long n[N];
    for (int i = 0; i < N; i++) {
        c[i] = goose__coro_new(16 * 1024, counter, &n[i]);
        ASSERT_NOT_NULL(c[i]);
    }
    for (int round = 0; round < 101; round++)
        for (int i = 0; i < N; i++)
            goose__coro_resume(c[i]);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(n[i], 100);
        ASSERT(goose__coro_finished(c[i]));
        goose__coro_free(c[i]);
    }
}

static goose_coro *inner;

static void nested_inner(void *arg)
{
    (void)arg;
    trace[ntrace++] = 2;
    goose__coro_yield();
    trace[ntrace++] = 4;
}

static void nested_outer(void *arg)
{
    (void)arg;
    trace[ntrace++] = 1;
    goose__coro_resume(inner); /* yields back here, not to main */
    ASSERT(goose__coro_current() != inner);
    trace[ntrace++] = 3;
    goose__coro_resume(inner);
    trace[ntrace++] = 5;
}

TEST(nested_resume_returns_to_resumer)
{
    inner = goose__coro_new(32 * 1024, nested_inner, NULL);
    goose_coro *outer = goose__coro_new(32 * 1024, nested_outer, NULL);
    goose__coro_resume(outer);
    ASSERT(goose__coro_finished(outer));
    ASSERT_EQ(ntrace, 5);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(trace[i], i + 1);
    goose__coro_free(inner);
    goose__coro_free(outer);
}

static long deep(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    return n == 0 ? pad[0] : deep(n - 1) + pad[0];
}

static void use_stack(void *arg)
{
    *(long *)arg = deep(100); /* about 60 KiB of stack */
}

TEST(deep_stack_fits)
{
    long out = -1;
    goose_coro *c = goose__coro_new(256 * 1024, use_stack, &out);
    goose__coro_resume(c);
    ASSERT(goose__coro_finished(c));
    ASSERT_EQ(out, 5050);
    goose__coro_free(c);
}

static void overflow(void *arg)
{
    *(long *)arg = deep(1000000);
}

TEST(guard_page_stops_overflow)
{
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        long out;
        goose_coro *c = goose__coro_new(64 * 1024, overflow, &out);
        goose__coro_resume(c);
        _exit(0); /* not reached: the guard page faults */
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0));
}

/* 60 KiB of recursion from a 16 KiB coroutine, through goose__coro_call,
 * twice with a yield between: the coroutine goes on after each call. */
typedef struct call_state {
    goose_coro *self;
    long out[2];
    int seen_current; /* goose__coro_current() inside fn was not self */
} call_state;

static call_state *calling;

static void deep_call(void *arg)
{
    *(long *)arg = deep(100);
    if (!goose__coro_current() && !goose__coro_running(calling->self))
        calling->seen_current++;
}

static void calls_twice(void *arg)
{
    call_state *st = arg;
    goose__coro_call(deep_call, &st->out[0]);
    goose__coro_yield();
    goose__coro_call(deep_call, &st->out[1]);
}

static void resume_twice(void *arg)
{
    goose__coro_resume(arg);
    goose__coro_resume(arg);
}

TEST(call_runs_on_the_threads_stack)
{
    call_state st = {0};
    calling = &st;
    st.self = goose__coro_new(16 * 1024, calls_twice, &st);
    ASSERT_NOT_NULL(st.self);
    goose__coro_resume(st.self);
    ASSERT(!goose__coro_finished(st.self));
    ASSERT_EQ(st.out[0], 5050);
    ASSERT_EQ(st.out[1], 0);
    goose__coro_resume(st.self);
    ASSERT(goose__coro_finished(st.self));
    ASSERT_EQ(st.out[1], 5050);
    ASSERT_EQ(st.seen_current, 2);
    ASSERT_NULL(goose__coro_current());
    goose__coro_free(st.self);
    /* from a coroutine resumed by a coroutine (a batch's lane): passed
     * on to the thread, not run on the small outer stack */
    memset(&st, 0, sizeof st);
    st.self = goose__coro_new(16 * 1024, calls_twice, &st);
    goose_coro *outer = goose__coro_new(16 * 1024, resume_twice, st.self);
    goose__coro_resume(outer);
    ASSERT(goose__coro_finished(outer));
    ASSERT(goose__coro_finished(st.self));
    ASSERT_EQ(st.out[0] + st.out[1], 2 * 5050);
    goose__coro_free(st.self);
    goose__coro_free(outer);
    /* outside any coroutine: a plain call */
    long out = 0;
    goose__coro_call(use_stack, &out);
    ASSERT_EQ(out, 5050);
}

TEST(restart_reuses_the_stack)
{
    int a = 1, b = 5;
    ntrace = 0;
    goose_coro *c = goose__coro_new(32 * 1024, two_steps, &a);
    ASSERT_EQ(goose__coro_restart(c, two_steps, &b), -1); /* not finished yet */
    goose__coro_resume(c);
    goose__coro_resume(c);
    ASSERT(goose__coro_finished(c));
    for (int round = 0; round < 1000; round++) {
        ASSERT_EQ(goose__coro_restart(c, two_steps, &b), 0);
        ASSERT(!goose__coro_finished(c));
        ntrace = 0;
        goose__coro_resume(c);
        goose__coro_resume(c);
        ASSERT(goose__coro_finished(c));
        ASSERT_EQ(ntrace, 2);
        ASSERT_EQ(trace[0], 5);
        ASSERT_EQ(trace[1], 15);
    }
    goose__coro_free(c);
}

TEST_MAIN(TEST_ENTRY(resume_yield_order), TEST_ENTRY(restart_reuses_the_stack), TEST_ENTRY(many_coroutines_interleave),
          TEST_ENTRY(nested_resume_returns_to_resumer), TEST_ENTRY(deep_stack_fits),
          TEST_ENTRY(call_runs_on_the_threads_stack),
          TEST_ENTRY(guard_page_stops_overflow))
