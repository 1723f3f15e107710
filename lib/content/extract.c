/* PCRE2 patterns, compiled once per thread: a transaction that extracts
 * with the same pattern every iteration finds it compiled (and JIT
 * compiled, which makes a match several times faster) in its thread's
 * cache.  Per thread, so no lock; bounded (GOOSE_EXTRACT_CACHED), so a
 * script building patterns from data cannot grow it. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "content/extract.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "coro/coro.h"

/* The JIT's own stack, on the heap: without one PCRE2 takes 32 KiB of
 * the machine stack, more than a small user coroutine has. */
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

typedef struct compiled {
    char *pattern;
    pcre2_code *code;
    pcre2_match_data *match;
    uint32_t groups; /* capture groups in the pattern */
    int jit;         /* matched by pcre2_jit_match */
    uint64_t used;   /* when last used, in cache ticks */
} compiled;

typedef struct cache {
    compiled slot[GOOSE_EXTRACT_CACHED];
    uint64_t tick;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
} cache;

static pthread_key_t cache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void forget(compiled *c)
{
    free(c->pattern);
    pcre2_match_data_free(c->match);
    pcre2_code_free(c->code);
    memset(c, 0, sizeof *c);
}

static void cache_free(void *arg)
{
    cache *k = arg;
    if (!k)
        return;
    for (size_t i = 0; i < GOOSE_EXTRACT_CACHED; i++)
        forget(&k->slot[i]);
    pcre2_match_context_free(k->mctx);
    pcre2_jit_stack_free(k->jit_stack);
    free(k);
}

static void make_key(void)
{
    (void)pthread_key_create(&cache_key, cache_free);
}

void goose__extract_forget(void)
{
    pthread_once(&key_once, make_key);
    cache_free(pthread_getspecific(cache_key));
    pthread_setspecific(cache_key, NULL);
}

static cache *this_cache(void)
{
    pthread_once(&key_once, make_key);
    cache *k = pthread_getspecific(cache_key);
    if (k)
        return k;
    if (!(k = calloc(1, sizeof *k)) || !(k->mctx = pcre2_match_context_create(NULL)))
        goto fail;
    /* no JIT stack (no JIT on this machine): matches are interpreted */
    k->jit_stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
    if (k->jit_stack)
        pcre2_jit_stack_assign(k->mctx, NULL, k->jit_stack);
    if (pthread_setspecific(cache_key, k) != 0)
        goto fail;
    return k;
fail:
    cache_free(k);
    return NULL;
}

/* pcre2_compile takes about 22 KiB of stack (measured, 10.42), more than
 * a 16 KiB user stack; pcre2_match's interpreter took about 4 KiB here,
 * but PCRE2 before 10.41 kept a 20 KiB frame vector on the stack.  Both
 * run through goose__coro_call, on the engine thread's stack. */
typedef struct pcre_call {
    const char *pattern;
    pcre2_code *re;
    int code;
    PCRE2_SIZE offset;
    compiled *c;
    PCRE2_SPTR subject;
    size_t len;
    pcre2_match_context *mctx;
    int rc;
} pcre_call;

static void compile_on_thread(void *arg)
{
    pcre_call *p = arg;
    p->re = pcre2_compile((PCRE2_SPTR)p->pattern, PCRE2_ZERO_TERMINATED, 0, &p->code,
                          &p->offset, NULL);
}

static void match_on_thread(void *arg)
{
    pcre_call *p = arg;
    p->rc = pcre2_match(p->c->code, p->subject, p->len, 0, 0, p->c->match, p->mctx);
}

/* "bad pattern "<pattern>": <PCRE2's message> at offset N", the pattern
 * cut short: the text becomes an error row. */
static void bad_pattern(const char *pattern, int code, size_t offset, char *err,
                        size_t errlen)
{
    PCRE2_UCHAR msg[160];
    if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
        snprintf((char *)msg, sizeof msg, "error %d", code);
    int cut = strlen(pattern) > 60;
    snprintf(err, errlen, "bad pattern \"%.60s%s\": %s at offset %zu", pattern,
             cut ? "..." : "", (const char *)msg, offset);
}

/* The compiled pattern, from the cache or compiled into it (evicting the
 * least recently used); NULL with err set, or *nomem set. */
static compiled *compile(cache *k, const char *pattern, char *err, size_t errlen, int *nomem)
{
    compiled *c = NULL, *oldest = &k->slot[0];
    for (size_t i = 0; i < GOOSE_EXTRACT_CACHED && !c; i++) {
        compiled *s = &k->slot[i];
        if (s->pattern && strcmp(s->pattern, pattern) == 0)
            c = s;
        else if (s->used < oldest->used)
            oldest = s;
    }
    if (c) {
        c->used = ++k->tick;
        return c;
    }
    pcre_call p = {.pattern = pattern};
    goose__coro_call(compile_on_thread, &p);
    pcre2_code *re = p.re;
    if (!re) {
        if (p.code == PCRE2_ERROR_NOMEMORY)
            *nomem = 1;
        else
            bad_pattern(pattern, p.code, p.offset, err, errlen);
        return NULL;
    }
    c = oldest;
    forget(c);
    c->code = re;
    c->match = pcre2_match_data_create_from_pattern(re, NULL);
    c->pattern = strdup(pattern);
    if (!c->match || !c->pattern) {
        forget(c);
        *nomem = 1;
        return NULL;
    }
    (void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &c->groups);
    uint32_t opts = 0;
    (void)pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opts);
    /* pcre2_jit_match skips the subject's UTF check (a (*UTF) pattern
     * goes through pcre2_match, which checks) and the 20 KiB of machine
     * stack pcre2_match takes in PCRE2 10.42. */
    c->jit = k->jit_stack && !(opts & PCRE2_UTF) && pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    c->used = ++k->tick;
    return c;
}

int goose__extract(const char *body, size_t len, const char *pattern, char **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!pattern) {
        snprintf(err, errlen, "no pattern");
        return -1;
    }
    cache *k = this_cache();
    int nomem = 0;
    compiled *c = k ? compile(k, pattern, err, errlen, &nomem) : NULL;
    if (!c)
        return !k || nomem ? -2 : -1;
    PCRE2_SPTR subject = (PCRE2_SPTR)(body ? body : "");
    pcre_call p = {.c = c, .subject = subject, .len = len, .mctx = k->mctx};
    if (c->jit) /* the JIT's stack is on the heap: no call needed */
        p.rc = pcre2_jit_match(c->code, subject, len, 0, 0, c->match, k->mctx);
    else
        goose__coro_call(match_on_thread, &p);
    int rc = p.rc;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(rc, msg, sizeof msg);
        snprintf(err, errlen, "pattern \"%.60s%s\": %s", pattern,
                 strlen(pattern) > 60 ? "..." : "", (const char *)msg);
        return rc == PCRE2_ERROR_NOMEMORY ? -2 : -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->match);
    uint32_t g = c->groups ? 1 : 0;
    if ((uint32_t)rc <= g || ov[2 * g] == PCRE2_UNSET)
        return 0; /* group 1 did not take part: (a)?b on "b" */
    /* (end before start, \K in a lookaround, is a compile error unless
     * PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK, which is not set) */
    size_t n = ov[2 * g + 1] - ov[2 * g];
    if (!(*out = malloc(n + 1)))
        return -2;
    memcpy(*out, subject + ov[2 * g], n);
    (*out)[n] = '\0';
    return 1;
}
