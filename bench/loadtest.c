/*
 * bench/loadtest.c - the libgoose side of `make bench`.
 *
 * One scenario, one transaction: GET / and free the response, as a user's
 * smallest load test would be.  Users do not wait between requests unless
 * BENCH_WAIT_MS is set (the idle-memory test sets 1000; "0-5" waits from 0
 * to 5 ms, as the overloaded Gaggle does): goose_main() rejects flags it
 * does not know, so the knob is an environment variable.
 * BENCH_UNIQUE_PATHS=1 makes every request's path a new one (/p/1, /p/2,
 * ...), unnamed: the mistake --max-request-names bounds.
 *
 *   cc -O2 -Iinclude bench/loadtest.c -Lbuild -Wl,-rpath,$PWD/build -lgoose \
 *      -o bench/out/loadtest
 */
#include <goose.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static int get_root(goose_user *user)
{
    goose_response *r = goose_get(user, "/");
    goose_response_free(r);
    return GOOSE_OK;
}

static atomic_ulong next_path;

static int get_unique(goose_user *user)
{
    char path[32];
    snprintf(path, sizeof path, "/p/%lu", atomic_fetch_add(&next_path, 1) + 1);
    goose_response_free(goose_get(user, path));
    return GOOSE_OK;
}

int main(int argc, char **argv)
{
    const char *wait = getenv("BENCH_WAIT_MS");
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("bench");
    int rc;

    if (!attack || !s) {
        fprintf(stderr, "loadtest: out of memory\n");
        goose_scenario_free(s);
        goose_attack_free(attack);
        return 1;
    }
    if (wait && *wait) {
        char *end;
        unsigned long ms = strtoul(wait, &end, 10), max = ms;
        if (*end == '-')
            max = strtoul(end + 1, &end, 10);
        if (*end || max > 3600000ul || max < ms) {
            fprintf(stderr, "loadtest: BENCH_WAIT_MS \"%s\" is not a number of ms\n", wait);
            goose_scenario_free(s);
            goose_attack_free(attack);
            return 2;
        }
        goose_scenario_set_wait_time(s, (unsigned)ms, (unsigned)max);
    }
    const char *unique = getenv("BENCH_UNIQUE_PATHS");
    int u = unique && *unique && *unique != '0';
    if (!goose_scenario_add_transaction(s, u ? "get /p/N" : "get /", u ? get_unique : get_root)) {
        fprintf(stderr, "loadtest: cannot add the transaction\n");
        goose_scenario_free(s);
        goose_attack_free(attack);
        return 2;
    }
    if (goose_attack_add_scenario(attack, s) != GOOSE_OK) {
        fprintf(stderr, "loadtest: %s\n", goose_attack_error(attack));
        goose_attack_free(attack);
        return 2;
    }
    rc = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return rc;
}
