/*
 * umami.c - a multi-scenario load test in the style of Goose's Umami example:
 * anonymous readers browse, authenticated editors log in once (on_start),
 * browse the same pages (a shared task set) and edit nodes, and log out
 * once at the end (on_stop).  Node pages are named "/node/[id]" so the
 * report has one line for them, not one per node.
 *
 *   cc umami.c $(pkg-config --cflags --libs libgoose) -o umami
 *   ./umami --host http://127.0.0.1:8080 -u 20 -r 10 -t 1m
 *
 * Against the bundled target (build/goose-target) every page exists;
 * `make demo` runs exactly this.
 */
#include <goose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES 500

/* A node id of the user's own random walk; no shared state between users. */
static unsigned next_node(goose_user *u)
{
    unsigned *seed = goose_user_data(u);
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) % NODES + 1;
}

/* Each user keeps its own seed; the library frees it when the user ends. */
static int pick_seed(goose_user *u)
{
    unsigned *seed = malloc(sizeof *seed);
    if (!seed)
        return 1;
    *seed = goose_user_index(u) * 2654435761u + 1;
    goose_user_set_data(u, seed, free);
    return GOOSE_OK;
}

static int front_page(goose_user *u)
{
    goose_response *r = goose_get(u, "/");
    int status = goose_response_status(r);
    goose_response_free(r);
    return status == 200 ? GOOSE_OK : 1;
}

static int node_page(goose_user *u)
{
    char path[32];
    snprintf(path, sizeof path, "/node/%u", next_node(u));
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, "/node/[id]");
    goose_response *r = goose_request_send(req);
    size_t len = 0;
    const char *body = goose_response_body(r, &len);
    if (goose_response_status(r) == 200 && (!body || len == 0))
        goose_response_set_failure(r, "empty node page");
    goose_response_free(r);
    return GOOSE_OK;
}

static int big_page(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", "/bytes/16384");
    goose_request_set_name(req, "/bytes/[16k]");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int log_in(goose_user *u)
{
    static const char form[] = "name=editor&pass=secret";
    goose_request *req = goose_request_new(u, "POST", "/login");
    goose_request_set_header(req, "Content-Type",
                             "application/x-www-form-urlencoded");
    goose_request_set_body(req, form, strlen(form));
    goose_request_expect_status(req, 302);
    goose_response *r = goose_request_send(req);
    int ok = goose_response_status(r) == 302 &&
             goose_response_header(r, "Set-Cookie") != NULL;
    goose_response_free(r);
    pick_seed(u);
    return ok ? GOOSE_OK : 1;
}

static int check_session(goose_user *u)
{
    goose_response *r = goose_get(u, "/cookies");
    size_t len = 0;
    const char *body = goose_response_body(r, &len);
    if (!body || !strstr(body, "session="))
        goose_response_set_failure(r, "not logged in");
    goose_response_free(r);
    return GOOSE_OK;
}

static int edit_node(goose_user *u)
{
    char body[64];
    int n = snprintf(body, sizeof body, "node=%u&title=honk", next_node(u));
    goose_request *req = goose_request_new(u, "POST", "/echo");
    goose_request_set_name(req, "edit node");
    goose_request_set_header(req, "Content-Type",
                             "application/x-www-form-urlencoded");
    goose_request_set_body(req, body, (size_t)n);
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
    goose_attack *attack = goose_attack_new();

    goose_taskset *browse = goose_taskset_new("browse");
    goose_transaction_set_weight(
        goose_taskset_add_transaction(browse, "front page", front_page), 2);
    goose_transaction_set_weight(
        goose_taskset_add_transaction(browse, "node page", node_page), 6);
    goose_taskset_add_transaction(browse, "big page", big_page);

    goose_scenario *reader = goose_scenario_new("Anonymous reader");
    goose_scenario_set_weight(reader, 4);
    goose_scenario_set_wait_time(reader, 0, 20);
    goose_transaction_set_on_start(
        goose_scenario_add_transaction(reader, "pick seed", pick_seed));
    goose_scenario_add_taskset(reader, browse);
    goose_attack_add_scenario(attack, reader);

    goose_scenario *editor = goose_scenario_new("Authenticated editor");
    goose_scenario_set_weight(editor, 1);
    goose_scenario_set_wait_time(editor, 10, 50);
    goose_transaction_set_on_start(
        goose_scenario_add_transaction(editor, "log in", log_in));
    goose_transaction_set_sequence(
        goose_scenario_add_transaction(editor, "check session", check_session), 1);
    goose_scenario_add_taskset(editor, browse);
    goose_transaction_set_weight(
        goose_scenario_add_transaction(editor, "edit node", edit_node), 2);
    goose_transaction_set_on_stop(
        goose_scenario_add_transaction(editor, "log out", log_out));
    goose_attack_add_scenario(attack, editor);

    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
