/* The load test the Gaggle tests run as Manager and Workers.  With
 * LOADTEST_VARIANT=1 one weight differs: a different load test. */
#include <goose.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
    const char *variant = getenv("LOADTEST_VARIANT");
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
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
