/* Writes the seed corpus of make fuzz: one valid frame of each message. */
#include <stdio.h>

#include "fuzz/seeds.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: write-seeds DIR\n");
        return 2;
    }
    for (int i = 0; i < FUZZ_SEEDS; i++) {
        size_t len;
        unsigned char *p = fuzz_seed(i, &len);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%d", argv[1], i);
        FILE *f = fopen(path, "wb");
        if (!p || !f || fwrite(p, 1, len, f) != len) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        fclose(f);
        free(p);
    }
    return 0;
}
