/* A tiny test harness: each test runs in its own process (tests/run.sh).
 *   TEST(name) { ASSERT_EQ(1, 1); }
 *   TEST_MAIN(TEST_ENTRY(name), ...)
 * `prog --list` prints the names; `prog NAME` runs one; exit 0 passes,
 * 77 skips, anything else fails. */
#ifndef GOOSE_TEST_H
#define GOOSE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_entry {
    const char *name;
    void (*fn)(void);
} test_entry;

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) {#name, test_##name}

#define TEST_FAIL(...)                                                         \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

#define TEST_SKIP(...)                                                         \
    do {                                                                       \
        fprintf(stderr, "skipped: ");                                          \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(77);                                                              \
    } while (0)

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            TEST_FAIL("assertion failed: %s", #cond);                          \
    } while (0)

#define ASSERT_CMP(a, op, b)                                                   \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (!(a_ op b_))                                                       \
            TEST_FAIL("%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);          \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)

#define ASSERT_STR_EQ(a, b)                                                    \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                 \
            TEST_FAIL("%s == %s: \"%s\" vs \"%s\"", #a, #b,                    \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
    } while (0)

#define ASSERT_NOT_NULL(p) ASSERT((p) != NULL)
#define ASSERT_NULL(p) ASSERT((p) == NULL)

/* xorshift64: seeded inputs that are the same on every run. */
static inline uint64_t test_rng(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline int test_run(const test_entry *tests, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const test_entry *t = tests; t->name; t++)
            printf("%s\n", t->name);
        return 0;
    }
    for (const test_entry *t = tests; t->name; t++) {
        if (argc == 1 || strcmp(argv[1], t->name) == 0) {
            t->fn();
            if (argc != 1)
                return 0;
        }
    }
    if (argc == 1)
        return 0;
    fprintf(stderr, "no such test: %s\n", argv[1]);
    return 2;
}

#define TEST_MAIN(...)                                                         \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const test_entry tests_[] = {__VA_ARGS__, {NULL, NULL}};        \
        return test_run(tests_, argc, argv);                                   \
    }

#endif
