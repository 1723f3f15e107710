/* bench/data-gaggle.c - the load test of bench/data-gaggle.sh: each pass logs in as the next
 * "name" of data set "accounts" (GOOSE_DATA_CIRCULAR), the file
 * BENCH_DATA_FILE; without it, the same test with no data set (the
 * baseline of the Workers' memory). */
#include <goose.h>
#include <stdio.h>
#include <stdlib.h>

static int log_in(goose_user *u)
{
    const char *name = goose_user_value(u, "accounts", "name");
    char path[300];
    snprintf(path, sizeof path, "/account/login?name=%s", name ? name : "nobody");
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, "/account/login");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

int main(int argc, char **argv)
{
    const char *file = getenv("BENCH_DATA_FILE");
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Accounts");
    goose_scenario_add_transaction(s, "log in", log_in);
    goose_attack_add_scenario(attack, s);
    if (file && *file)
        goose_attack_add_data(attack, "accounts", file, GOOSE_DATA_CIRCULAR);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
