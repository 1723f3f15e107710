/* A host program with an embedded serving Worker, for tests/test-serve.c:
 *   serve-embedded serve TESTS [Worker options]   the Worker, test after test
 *   serve-embedded [goose_main options]           the Manager, same load test
 * The host waits on gaggle_worker_fd() with poll(), prints every state
 * change, and after each test (back to JOINED or DIALING after RUNNING)
 * prints its open files and resident memory:
 *   after test N: fds F rss K kB
 * After TESTS tests it stops the Worker and exits 0 when it ended well;
 * with TESTS 0 it stops it after 6 s and prints how long the stop took:
 *   stopped in N ms */
#include <goose.h>

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int front(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static goose_attack *load_test(void)
{
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Reader");
    goose_scenario_set_wait_time(s, 1, 5);
    goose_scenario_add_transaction(s, "front", front);
    goose_attack_add_scenario(attack, s);
    return attack;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1; /* the directory's own */
}

/* The fewest of a few looks: a dial in flight holds a socket for a
 * moment, a leak holds it for good. */
static int stable_fds(void)
{
    int least = count_fds();
    for (int i = 0; i < 4; i++) {
        usleep(10000);
        int n = count_fds();
        least = n < least ? n : least;
    }
    return least;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

static const char *state_name(int s)
{
    return s == GAGGLE_WORKER_DIALING  ? "DIALING"
           : s == GAGGLE_WORKER_JOINED  ? "JOINED"
           : s == GAGGLE_WORKER_RUNNING ? "RUNNING"
           : s == GAGGLE_WORKER_STOPPED ? "STOPPED" : "?";
}

static void log_line(void *arg, goose_log_level level, const char *line)
{
    (void)arg, (void)level;
    fprintf(stderr, "%s\n", line);
}

static int serve(goose_attack *attack, int tests, int argc, char **argv)
{
    goose_attack_set_log(attack, log_line, NULL);
    goose_attack_set_option(attack, "worker-reconnect", NULL);
    if (goose_attack_parse_args(attack, argc, argv) != GOOSE_OK)
        return 2;
    gaggle_worker *w = gaggle_worker_start(attack);
    if (!w)
        return 1;
    int state = 0, done = 0;
    long long t0 = now_ms(), stopped_at = 0;
    while (state != GAGGLE_WORKER_STOPPED) {
        struct pollfd p = {gaggle_worker_fd(w), POLLIN, 0};
        int ready = poll(&p, 1, tests ? 60000 : 100);
        if (!tests && !stopped_at && now_ms() - t0 >= 6000) {
            stopped_at = now_ms();
            gaggle_worker_stop(w);
        }
        if (ready < 0 || (ready == 0 && tests)) {
            fprintf(stderr, "no state change for 60 s\n");
            gaggle_worker_stop(w); /* so that the join below ends */
            break;
        }
        if (ready == 0)
            continue;
        int now = gaggle_worker_state(w);
        if (now == state)
            continue;
        printf("state %s\n", state_name(now));
        if (state == GAGGLE_WORKER_RUNNING &&
            (now == GAGGLE_WORKER_JOINED || now == GAGGLE_WORKER_DIALING)) {
            printf("after test %d: fds %d rss %ld kB\n", ++done, stable_fds(), rss_kb());
            if (done == tests)
                gaggle_worker_stop(w);
        }
        fflush(stdout);
        state = now;
    }
    if (stopped_at)
        printf("stopped in %lld ms\n", now_ms() - stopped_at);
    int rc = gaggle_worker_join(w);
    printf("worker: %s\n", goose_strerror(rc));
    return rc == GOOSE_OK && done == tests ? 0 : 1;
}

int main(int argc, char **argv)
{
    goose_attack *attack = load_test();
    int status;
    if (argc >= 3 && !strcmp(argv[1], "serve")) /* argv[2] stands as the name */
        status = serve(attack, atoi(argv[2]), argc - 2, argv + 2);
    else
        status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
