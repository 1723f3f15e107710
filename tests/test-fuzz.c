/* The fuzz harnesses' readers in make check: every seed, every committed
 * reproducer (tests/fuzz/regressions/frames and http, each with the
 * verdict its name says), the response corpus, and a bounded number of
 * mutations of the frame seeds. */
#include "test.h"

#include <dirent.h>
#include <errno.h>

#include "fuzz/frames.h"
#include "fuzz/h2.h"
#include "fuzz/http.h"
#include "fuzz/seeds.h"

TEST(seeds_decode)
{
    for (int i = 0; i < FUZZ_SEEDS; i++) {
        size_t len;
        unsigned char *p = fuzz_seed(i, &len);
        msgpack_unpacked u;
        char type[32];
        msgpack_unpacked_init(&u);
        ASSERT_EQ(goose__frame_decode(p + 4, len - 4, &u, type, sizeof type), 0);
        msgpack_unpacked_destroy(&u);
        goose_fuzz_frames(p, len);
        free(p);
    }
}

/* Each input of dir through `replay`; the inputs (non-empty files) are
 * counted, and those named NAME.ok / NAME.done / NAME.bad / NAME.error
 * must get that verdict (frames: .ok or .bad; responses: .done or
 * .error); other names only must not crash. */
typedef int (*replay_fn)(const unsigned char *data, size_t len);

static int replay_dir(const char *dir, replay_fn replay, const char *good, const char *bad)
{
    DIR *d = opendir(dir);
    if (!d)
        TEST_FAIL("%s: %s (run from the source tree)", dir, strerror(errno));
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        static unsigned char buf[1 << 20];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            TEST_FAIL("%s: %s", path, strerror(errno));
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (len == 0)
            continue;
        /* exactly len bytes, so that a read past the end is seen */
        unsigned char *p = malloc(len);
        ASSERT_NOT_NULL(p);
        memcpy(p, buf, len);
        int verdict = replay(p, len);
        free(p);
        const char *dot = strrchr(e->d_name, '.');
        int want = !dot ? -1 : !strcmp(dot + 1, good) ? 1 : !strcmp(dot + 1, bad) ? 0 : -1;
        if (want >= 0 && verdict != want)
            TEST_FAIL("%s: %s, want .%s", path, verdict ? good : bad, want ? good : bad);
        n++;
    }
    closedir(d);
    printf("%s: %d inputs replayed\n", dir, n);
    return n;
}

static int replay_frames(const unsigned char *data, size_t len)
{
    return goose_fuzz_frames_ok(data, len);
}

static int replay_response(const unsigned char *data, size_t len)
{
    return goose_fuzz_http_end(data, len) == GOOSE_H1_DONE;
}

/* Both requests of the HTTP/2 harness were reported. */
static int replay_h2(const unsigned char *data, size_t len)
{
    return goose_fuzz_h2_run(data, len) == 2;
}

/* The HTTP/2 session's seeds (make fuzz-http's corpus): NAME.done
 * answers both requests (GOAWAY's: the one it leaves unprocessed has no
 * new connection under the fuzzer, and fails) */
TEST(h2_seeds_replay)
{
    ASSERT_GT(replay_dir("tests/fuzz/h2-seeds", replay_h2, "done", "error"), 0);
}

/* Crash reproducers and edge cases of both fuzz harnesses (make fuzz,
 * make fuzz-http), and the response corpus of make fuzz-http; a folder
 * without inputs is a failure, not a pass. */
TEST(regressions_replay)
{
    ASSERT_GT(replay_dir("tests/fuzz/regressions/frames", replay_frames, "ok", "bad"), 0);
    ASSERT_GT(replay_dir("tests/fuzz/regressions/http", replay_response, "done", "error"), 0);
    ASSERT_GT(replay_dir("tests/fuzz/http-seeds", replay_response, "done", "error"), 0);
}

TEST(mutated_seeds)
{
    unsigned s = 2024;
    for (int round = 0; round < 20000; round++) {
        size_t len;
        unsigned char *p = fuzz_seed(round % FUZZ_SEEDS, &len);
        for (int k = 0; k < 1 + round % 4; k++) {
            s = s * 1103515245u + 12345u;
            size_t at = 4 + (s >> 8) % (len - 4);
            p[at] ^= (unsigned char)(1u << (s % 8));
        }
        s = s * 1103515245u + 12345u;
        size_t cut = round % 3 ? len : 4 + (s >> 8) % (len - 4);
        goose_fuzz_frames(p, cut);
        free(p);
    }
}

TEST_MAIN(TEST_ENTRY(seeds_decode), TEST_ENTRY(regressions_replay), TEST_ENTRY(mutated_seeds),
          TEST_ENTRY(h2_seeds_replay))
