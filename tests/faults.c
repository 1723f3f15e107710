/* Allocations that fail now and then, for a program linked with the
 * metrics objects whose allocators were renamed (see the Makefile's
 * FAULT_OBJ): with LOADTEST_FAULT=N, about one allocation in N fails, after
 * the first 2,000 (the setup).  Unset, none fails. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void *goose_test_malloc(size_t n);
void *goose_test_calloc(size_t n, size_t size);
void *goose_test_realloc(void *p, size_t n);
char *goose_test_strdup(const char *s);

static int should_fail(void)
{
    static atomic_ulong calls;
    static int rate = -1;
    if (rate < 0) {
        const char *e = getenv("LOADTEST_FAULT");
        rate = e ? atoi(e) : 0;
    }
    unsigned long k = atomic_fetch_add(&calls, 1) + 1;
    if (rate <= 0 || k < 2000)
        return 0;
    k *= 0x9E3779B97F4A7C15UL; /* spread the failures, repeatably */
    return (k >> 40) % (unsigned long)rate == 0;
}

void *goose_test_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

void *goose_test_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}

void *goose_test_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

char *goose_test_strdup(const char *s)
{
    return should_fail() ? NULL : strdup(s);
}
