/* The fuzz harness's readers in make check: every seed, every committed
 * crash reproducer (tests/fuzz/regressions), and a bounded number of
 * mutations of the seeds. */
#include "test.h"

#include <dirent.h>

#include "fuzz/frames.h"
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

TEST(regressions_replay)
{
    const char *dir = "tests/fuzz/regressions";
    DIR *d = opendir(dir);
    if (!d)
        TEST_SKIP("run from the source tree");
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        static unsigned char buf[1 << 20];
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        goose_fuzz_frames(buf, len);
        n++;
    }
    closedir(d);
    printf("%d reproducers replayed\n", n);
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

TEST_MAIN(TEST_ENTRY(seeds_decode), TEST_ENTRY(regressions_replay), TEST_ENTRY(mutated_seeds))
