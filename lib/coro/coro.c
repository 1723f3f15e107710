#include "coro/coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(GOOSE_CORO_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define GOOSE_CORO_UCONTEXT 1
#endif

#ifdef GOOSE_CORO_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GOOSE_HAVE_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define GOOSE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOOSE_ASAN 1
#endif
#endif

#ifdef GOOSE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

struct goose_coro {
#ifdef GOOSE_CORO_UCONTEXT
    ucontext_t ctx;
    ucontext_t caller;
#else
    void *sp;        /* saved stack pointer of the coroutine */
    void *caller_sp; /* saved stack pointer of whoever resumed it */
#endif
    goose_coro_fn fn;
    void *arg;
    char *map;       /* guard page + stack */
    size_t map_size;
    size_t stack_size;
    int finished;
    int running;     /* resumed and not yet yielded back */
    goose_coro *prev; /* the coroutine that was current before resume */
    goose_coro_fn call_fn; /* goose__coro_call: to run on the resumer's stack */
    void *call_arg;
#ifdef GOOSE_HAVE_VALGRIND
    unsigned vg_stack;
#endif
    void *asan_fake;
    const void *caller_bottom;
    size_t caller_size;
};

static _Thread_local goose_coro *current;

#ifndef GOOSE_CORO_UCONTEXT
void goose__coro_switch(void **save_sp, void *load_sp);
void goose__coro_boot(void);
#endif

const char *goose__coro_backend(void)
{
#if defined(GOOSE_CORO_UCONTEXT)
    return "ucontext";
#elif defined(__x86_64__)
    return "x86_64";
#else
    return "aarch64";
#endif
}

goose_coro *goose__coro_current(void)
{
    return current;
}

int goose__coro_running(const goose_coro *coro)
{
    return coro && coro->running;
}

int goose__coro_finished(const goose_coro *coro)
{
    return coro->finished;
}

static void coro_entry(goose_coro *c);

/* ASan must be told when we leave one stack for another; its "fake
 * stack" of the side being left is saved in *fake (NULL: never coming back). */
static void asan_leave(void **fake, const void *to_bottom, size_t to_size)
{
#ifdef GOOSE_ASAN
    __sanitizer_start_switch_fiber(fake, to_bottom, to_size);
#else
    (void)fake, (void)to_bottom, (void)to_size;
#endif
}

static void asan_arrive(void *fake, const void **from_bottom,
                        size_t *from_size)
{
#ifdef GOOSE_ASAN
    __sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
#else
    (void)fake, (void)from_bottom, (void)from_size;
#endif
}

#ifdef GOOSE_CORO_UCONTEXT
static void ucontext_entry(unsigned hi, unsigned lo)
{
    uintptr_t p = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    coro_entry((goose_coro *)p);
}

static int stack_prepare(goose_coro *c, char *bottom, size_t size)
{
    if (getcontext(&c->ctx) < 0)
        return -1;
    c->ctx.uc_stack.ss_sp = bottom;
    c->ctx.uc_stack.ss_size = size;
    c->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->ctx, (void (*)(void))ucontext_entry, 2,
                (unsigned)(p >> 16 >> 16), (unsigned)(p & 0xffffffffu));
    return 0;
}

static void switch_into(goose_coro *c)
{
    swapcontext(&c->caller, &c->ctx);
}

static void switch_out(goose_coro *c)
{
    swapcontext(&c->ctx, &c->caller);
}
#else
/* The first switch into a new stack "returns" into goose__coro_boot with
 * the registers it needs already in place. */
static int stack_prepare(goose_coro *c, char *bottom, size_t size)
{
    uintptr_t top = ((uintptr_t)(bottom + size)) & ~(uintptr_t)15;
#if defined(__x86_64__)
    void **sp = (void **)(top - 72);
    sp[0] = NULL;                       /* r15 */
    sp[1] = NULL;                       /* r14 */
    sp[2] = (void *)coro_entry;         /* r13: function */
    sp[3] = c;                          /* r12: argument */
    sp[4] = NULL;                       /* rbx */
    sp[5] = NULL;                       /* rbp */
    sp[6] = (void *)goose__coro_boot;   /* return address */
#else
    void **sp = (void **)(top - 176);
    for (int i = 0; i < 22; i++)
        sp[i] = NULL;
    sp[0] = c;                          /* x19: argument */
    sp[1] = (void *)coro_entry;         /* x20: function */
    sp[11] = (void *)goose__coro_boot;  /* x30: return address */
#endif
    c->sp = sp;
    return 0;
}

static void switch_into(goose_coro *c)
{
    goose__coro_switch(&c->caller_sp, c->sp);
}

static void switch_out(goose_coro *c)
{
    goose__coro_switch(&c->sp, c->caller_sp);
}
#endif

static void coro_entry(goose_coro *c)
{
    asan_arrive(NULL, &c->caller_bottom, &c->caller_size);
    c->fn(c->arg);
    c->finished = 1;
    asan_leave(NULL, c->caller_bottom, c->caller_size);
    switch_out(c);
    abort(); /* a finished coroutine is never resumed */
}

goose_coro *goose__coro_new(size_t stack_size, goose_coro_fn fn, void *arg)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (stack_size + page - 1) / page * page;
    if (size < 4 * page)
        size = 4 * page;
    goose_coro *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->map_size = size + page;
    c->stack_size = size;
    c->map = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (c->map == MAP_FAILED)
        goto fail;
    if (mprotect(c->map, page, PROT_NONE) < 0)
        goto fail_unmap;
    c->fn = fn;
    c->arg = arg;
    if (stack_prepare(c, c->map + page, size) < 0)
        goto fail_unmap;
#ifdef GOOSE_HAVE_VALGRIND
    c->vg_stack = VALGRIND_STACK_REGISTER(c->map + page, c->map + c->map_size);
#endif
    return c;
fail_unmap:
    munmap(c->map, c->map_size);
fail:
    free(c);
    return NULL;
}

int goose__coro_restart(goose_coro *coro, goose_coro_fn fn, void *arg)
{
    if (!coro->finished)
        return -1;
    coro->fn = fn;
    coro->arg = arg;
    coro->finished = 0;
    coro->asan_fake = NULL;
    return stack_prepare(coro, coro->map + coro->map_size - coro->stack_size,
                         coro->stack_size);
}

void goose__coro_free(goose_coro *coro)
{
    if (!coro)
        return;
#ifdef GOOSE_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(coro->vg_stack);
#endif
#ifdef GOOSE_ASAN /* an abandoned coroutine's frames are still poisoned */
    __asan_unpoison_memory_region(coro->map, coro->map_size);
#endif
    munmap(coro->map, coro->map_size);
    free(coro);
}

void goose__coro_resume(goose_coro *coro)
{
    if (coro->finished)
        return;
    coro->prev = current;
    for (;;) {
        void *fake = NULL;
        current = coro;
        coro->running = 1;
        asan_leave(&fake, coro->map + coro->map_size - coro->stack_size,
                   coro->stack_size);
        switch_into(coro);
        asan_arrive(fake, NULL, NULL);
        coro->running = 0;
        current = coro->prev;
        if (!coro->call_fn)
            return;
        /* goose__coro_call: run it on this stack, or on the thread's
         * when this is a coroutine too (a nested resume), then go back */
        goose_coro_fn fn = coro->call_fn;
        coro->call_fn = NULL;
        goose__coro_call(fn, coro->call_arg);
    }
}

void goose__coro_yield(void)
{
    goose_coro *c = current;
    if (!c)
        return;
    asan_leave(&c->asan_fake, c->caller_bottom, c->caller_size);
    switch_out(c);
    asan_arrive(c->asan_fake, &c->caller_bottom, &c->caller_size);
}

void goose__coro_call(goose_coro_fn fn, void *arg)
{
    goose_coro *c = current;
    if (!c) {
        fn(arg);
        return;
    }
    c->call_fn = fn;
    c->call_arg = arg;
    goose__coro_yield();
}
