/*
 * quickstart.c - the smallest useful libgoose load test.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs libgoose) -o quickstart
 *   ./quickstart --host http://127.0.0.1:8080 -u 10 -r 5 -t 30s
 *
 * One scenario of visitors: most of the time they read the front page,
 * sometimes a random node.  Each user waits 100-500 ms between pages.
 */
#include <goose.h>
#include <stdio.h>

static int front_page(goose_user *u)
{
    goose_response *r = goose_get(u, "/");
    int ok = goose_response_status(r) == 200;
    goose_response_free(r);
    return ok ? GOOSE_OK : 1;
}

static int some_node(goose_user *u)
{
    char path[32];
    snprintf(path, sizeof path, "/node/%u", goose_user_index(u) % 100 + 1);
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, "/node/[id]"); /* one line in the report */
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

int main(int argc, char **argv)
{
    goose_attack *attack = goose_attack_new();
    goose_scenario *visitor = goose_scenario_new("Visitor");
    goose_scenario_set_wait_time(visitor, 100, 500);
    goose_transaction_set_weight(
        goose_scenario_add_transaction(visitor, "front page", front_page), 3);
    goose_scenario_add_transaction(visitor, "node page", some_node);
    goose_attack_add_scenario(attack, visitor);

    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
