/* The load test the Gaggle tests run as Manager and Workers.  With
 * LOADTEST_VARIANT=1 one weight differs: a different load test.  With
 * LOADTEST_VARIANT=stall each user's 6th pass waits 300 ms on the target
 * (for --co-mitigation).  With LOADTEST_VARIANT=hang each user's on_stop
 * logs out, then sleeps an hour (for --stop-timeout and signals).  With
 * LOADTEST_VARIANT=paths each pass asks for one of 5 shared paths, then
 * for a path no other request has (for --max-request-names).  With
 * LOADTEST_VARIANT=random three scenarios of weights 2:1:1 each ask, on
 * start, for /r/INDEX/SCENARIO/V1-V2 (the user's first two values of
 * goose_user_random), then for / on each pass (for --seed, --scheduler).
 * With LOADTEST_VARIANT=data each pass logs in as the "name" of data set
 * LOADTEST_DATA_NAME (default "accounts"), file LOADTEST_DATA_PATH
 * (default accounts.csv), mode LOADTEST_DATA_MODE (unique, circular or
 * random; default unique): GET /account/login?name=NAME.  With
 * LOADTEST_VARIANT=once the default test also has a test_start (GET
 * /once/start) and a test_stop (GET /once/stop); with slowdata a test_start
 * of 2 s that sets test data. */
#include <goose.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int front_page(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static int node(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", "/node/7");
    goose_request_set_name(req, "/node/[id]");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int log_in(goose_user *u)
{
    goose_request *req = goose_request_new(u, "POST", "/login");
    goose_request_set_body(req, "a=b", 3);
    goose_request_expect_status(req, 302);
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int log_out(goose_user *u)
{
    goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

static int once_start(goose_user *u)
{
    goose_response_free(goose_get(u, "/once/start"));
    return GOOSE_OK;
}

/* LOADTEST_VARIANT=slowdata: a test_start of 2 s that sets test data. */
static int slow_data_start(goose_user *u)
{
    goose_response_free(goose_get(u, "/slow?ms=2000"));
    return goose_test_set_data(u, "token", 5);
}

static int once_stop(goose_user *u)
{
    goose_response_free(goose_get(u, "/once/stop"));
    return GOOSE_OK;
}

/* Fast passes, and one slow one per user. */
static int stall_once(goose_user *u)
{
    unsigned *passes = goose_user_data(u);
    if (!passes) {
        passes = calloc(1, sizeof *passes);
        goose_user_set_data(u, passes, free);
    }
    goose_response_free(goose_get(u, "/"));
    if (passes && ++*passes == 6) {
        goose_request *req = goose_request_new(u, "GET", "/slow?ms=300");
        goose_request_set_name(req, "/slow");
        goose_response_free(goose_request_send(req));
    }
    return GOOSE_OK;
}

/* A variant's load test: its one scenario, run by goose_main. */
static int run_alone(goose_scenario *s, int argc, char **argv)
{
    goose_attack *attack = goose_attack_new();
    goose_attack_add_scenario(attack, s);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}

static int run_staller(int argc, char **argv)
{
    goose_scenario *s = goose_scenario_new("Staller");
    goose_scenario_add_transaction(s, "page", stall_once);
    return run_alone(s, argc, argv);
}

static int log_out_and_hang(goose_user *u)
{
    goose_response_free(goose_get(u, "/logout"));
    goose_sleep(u, 3600 * 1000);
    return GOOSE_OK;
}

static int run_hanger(int argc, char **argv)
{
    goose_scenario *s = goose_scenario_new("Hanger");
    goose_scenario_set_wait_time(s, 1, 5);
    goose_scenario_add_transaction(s, "front", front_page);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "hang", log_out_and_hang));
    return run_alone(s, argc, argv);
}

static atomic_uint passes;

static int shared_then_own(goose_user *u)
{
    unsigned n = atomic_fetch_add(&passes, 1);
    char path[48];
    snprintf(path, sizeof path, "/node/%u", n % 5);
    goose_response_free(goose_get(u, path));
    snprintf(path, sizeof path, "/node/%ld-%u", (long)getpid(), n);
    goose_response_free(goose_get(u, path));
    return GOOSE_OK;
}

static int run_paths(int argc, char **argv)
{
    goose_scenario *s = goose_scenario_new("Paths");
    goose_scenario_add_transaction(s, "pass", shared_then_own);
    return run_alone(s, argc, argv);
}

static int record_draws(goose_user *u, char scenario)
{
    char path[96];
    unsigned long long v1 = goose_user_random(u), v2 = goose_user_random(u);
    snprintf(path, sizeof path, "/r/%u/%c/%llx-%llx", goose_user_index(u), scenario, v1, v2);
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_expect_status(req, 404); /* the target has no such page */
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int draws_a(goose_user *u)
{
    return record_draws(u, 'A');
}

static int draws_b(goose_user *u)
{
    return record_draws(u, 'B');
}

static int draws_c(goose_user *u)
{
    return record_draws(u, 'C');
}

static int run_draws(int argc, char **argv)
{
    static const char names[3][2] = {"A", "B", "C"};
    goose_transaction_fn fns[] = {draws_a, draws_b, draws_c};
    goose_attack *attack = goose_attack_new();
    for (int i = 0; i < 3; i++) {
        goose_scenario *s = goose_scenario_new(names[i]);
        goose_scenario_set_weight(s, i ? 1 : 2);
        goose_scenario_set_wait_time(s, 1, 20);
        goose_transaction_set_on_start(goose_scenario_add_transaction(s, "draws", fns[i]));
        goose_scenario_add_transaction(s, "front", front_page);
        goose_attack_add_scenario(attack, s);
    }
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}

static const char *data_name(void)
{
    const char *name = getenv("LOADTEST_DATA_NAME");
    return name && *name ? name : "accounts";
}

static int log_in_as(goose_user *u)
{
    const char *name = goose_user_value(u, data_name(), "name");
    if (!name)
        return goose_transaction_fail(u, "no name in the data");
    char path[300];
    snprintf(path, sizeof path, "/account/login?name=%s", name);
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, "/account/login");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int run_data(int argc, char **argv)
{
    const char *path = getenv("LOADTEST_DATA_PATH"), *mode = getenv("LOADTEST_DATA_MODE");
    int m = !mode || !strcmp(mode, "unique") ? GOOSE_DATA_UNIQUE
            : !strcmp(mode, "circular")      ? GOOSE_DATA_CIRCULAR
                                             : GOOSE_DATA_RANDOM;
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Accounts");
    goose_scenario_add_transaction(s, "log in", log_in_as);
    goose_attack_add_scenario(attack, s);
    goose_attack_add_data(attack, data_name(), path && *path ? path : "accounts.csv", m);
    int status;
    if (getenv("LOADTEST_EMBEDDED")) { /* a Worker in a host program: no --worker */
        gaggle_worker *w = goose_attack_parse_args(attack, argc, argv) == GOOSE_OK
                               ? gaggle_worker_start(attack) : NULL;
        status = w && gaggle_worker_join(w) == GOOSE_OK ? 0 : 1;
        if (status)
            fprintf(stderr, "embedded worker: %s\n", goose_attack_error(attack));
    } else {
        status = goose_main(attack, argc, argv);
    }
    goose_attack_free(attack);
    return status;
}

int main(int argc, char **argv)
{
    const char *variant = getenv("LOADTEST_VARIANT");
    if (variant && !strcmp(variant, "stall"))
        return run_staller(argc, argv);
    if (variant && !strcmp(variant, "hang"))
        return run_hanger(argc, argv);
    if (variant && !strcmp(variant, "paths"))
        return run_paths(argc, argv);
    if (variant && !strcmp(variant, "random"))
        return run_draws(argc, argv);
    if (variant && !strcmp(variant, "data"))
        return run_data(argc, argv);
    goose_attack *attack = goose_attack_new();
    goose_scenario *reader = goose_scenario_new("Reader");
    goose_scenario_set_weight(reader, variant && *variant == '1' ? 2 : 3);
    goose_scenario_set_wait_time(reader, 1, 5);
    goose_transaction_set_weight(goose_scenario_add_transaction(reader, "front", front_page), 3);
    goose_scenario_add_transaction(reader, "node", node);
    goose_attack_add_scenario(attack, reader);
    goose_scenario *writer = goose_scenario_new("Writer");
    goose_scenario_set_wait_time(writer, 1, 5);
    goose_transaction_set_on_start(goose_scenario_add_transaction(writer, "log in", log_in));
    goose_scenario_add_transaction(writer, "front", front_page);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(writer, "log out", log_out));
    goose_attack_add_scenario(attack, writer);
    if (variant && !strcmp(variant, "once")) {
        goose_attack_set_test_start(attack, once_start);
        goose_attack_set_test_stop(attack, once_stop);
    }
    if (variant && !strcmp(variant, "slowdata"))
        goose_attack_set_test_start(attack, slow_data_start);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
