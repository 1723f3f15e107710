/*
 * umami.c - Goose's Umami example (a Drupal site), against the bundled
 * target's site (`goose-target --help`, "The site"):
 *
 * - anonymous readers load the front page as a browser does (stylesheet,
 *   script, icon and images: the theme is cacheable, so each user fetches
 *   it once; the banner is no-store, fetched every time), read node pages
 *   and look nodes up in the JSON API;
 * - editors log in once (on_start) through the login form, posting back
 *   its one-time token; edit nodes through the edit form, each with a
 *   fresh token; create nodes with JSON and read them back by the id the
 *   answer gave; and log out at the end (on_stop).  An editor whose login
 *   is refused stops instead of going on as if logged in.
 *
 * Every page is checked (its title, the status it must have): a check that
 * does not hold fails the request with its reason.  Node pages are named
 * "/node/[id]" so the report has one line for them, not one per node.
 *
 *   cc umami.c $(pkg-config --cflags --libs libgoose) -o umami
 *   ./umami --host http://127.0.0.1:8080 -u 20 -r 10 -t 1m
 *
 * The editor's name and password come from UMAMI_USER and UMAMI_PASSWORD
 * (the target takes any name with the password "secret").  Against the
 * bundled target (build/goose-target) every page exists; `make demo` runs
 * exactly this.  The man pages of each call (goose_request_add_form(3),
 * goose_response_form_value(3), goose_load_assets(3), ...) say more.
 */
#include <goose.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES 500 /* node pages read at random: /node/1 to /node/500 */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* From the user's own generator: with --seed, a run repeats its choices. */
static unsigned random_node(goose_user *u)
{
    return (unsigned)(goose_user_random(u) % NODES) + 1;
}

/* A GET named for the report, e.g. "/node/[id]" for every node. */
static goose_response *get_named(goose_user *u, const char *path, const char *name)
{
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, name);
    return goose_request_send(req);
}

/* ---- anonymous readers (and editors, who browse too) ---- */

static int front_page(goose_user *u)
{
    goose_response *page = goose_get(u, "/home");
    int failed = goose_response_expect_title(page, "Goose Umami") != GOOSE_OK;
    /* What the page references, as a browser loads it: each asset is its
     * own request, a fresh one comes from the user's cache. */
    if (!failed && goose_load_assets(u, page) < 0) {
        goose_transaction_fail(u, "the front page's assets were not loaded");
        failed = 1;
    }
    goose_response_free(page);
    return failed;
}

static int node_page(goose_user *u)
{
    unsigned n = random_node(u);
    char path[32], title[32];
    snprintf(path, sizeof path, "/node/%u", n);
    snprintf(title, sizeof title, "node %u", n);
    goose_response *r = get_named(u, path, "/node/[id]");
    int failed = goose_response_expect_title(r, title) != GOOSE_OK;
    goose_response_free(r);
    return failed;
}

/* The JSON API: a node picked from the list, then looked up by its id. */
static int api_lookup(goose_user *u)
{
    char pointer[40], path[48], id[24];
    goose_response *list = goose_get(u, "/api/nodes");
    const char *count = goose_response_json(list, "/data/count");
    unsigned long n = count ? strtoul(count, NULL, 10) : 0;
    const char *got = NULL;
    if (n > 0) {
        snprintf(pointer, sizeof pointer, "/data/items/%" PRIu64 "/id",
                 goose_user_random(u) % n);
        got = goose_response_json(list, pointer);
    }
    if (!got || strlen(got) >= sizeof id) {
        goose_response_set_failure(list, "no node id in /api/nodes");
        goose_response_free(list);
        return 1;
    }
    snprintf(id, sizeof id, "%s", got); /* got lives as long as list */
    goose_response_free(list);

    snprintf(path, sizeof path, "/api/nodes/%s", id);
    goose_response *node = get_named(u, path, "/api/nodes/[id]");
    got = goose_response_json(node, "/data/id");
    int failed = !got || strcmp(got, id) != 0;
    if (failed)
        goose_response_set_failure(node, "another node's data");
    goose_response_free(node);
    return failed;
}

/* ---- editors ---- */

/* The login form's one-time token, posted back with the credentials.  A
 * refused login stops this user: the rest of its work needs the session. */
static int log_in(goose_user *u)
{
    goose_response *form = goose_get(u, "/user/login");
    goose_response_expect_title(form, "Log in");
    const char *token = goose_response_form_value(form, "form_token");
    int status = 0;
    if (token) {
        goose_request *req = goose_request_new(u, "POST", "/user/login");
        goose_request_add_form(req, "name", env_or("UMAMI_USER", "editor"));
        goose_request_add_form(req, "password", env_or("UMAMI_PASSWORD", "secret"));
        goose_request_add_form(req, "form_token", token);
        goose_request_expect_status(req, 303); /* the session cookie is set */
        goose_response *r = goose_request_send(req);
        status = goose_response_status(r);
        goose_response_free(r);
    }
    goose_response_free(form);
    if (status == 303)
        return GOOSE_OK;
    goose_transaction_fail(u, token ? "login refused" : "no form_token on /user/login");
    goose_user_stop(u);
    return 1;
}

/* A field of the form, posted back as it is (empty when absent). */
static void copy_field(goose_request *req, goose_response *form, const char *name)
{
    const char *v = goose_response_form_value(form, name);
    goose_request_add_form(req, name, v ? v : "");
}

/* The edit form of a node with its own fresh token; its fields are posted
 * back as a browser submits them, the title changed. */
static int edit_node(goose_user *u)
{
    unsigned n = random_node(u);
    char path[40], title[32], changed[300];
    snprintf(path, sizeof path, "/node/%u/edit", n);
    snprintf(title, sizeof title, "Edit node %u", n);
    goose_response *form = get_named(u, path, "/node/[id]/edit");
    int failed = goose_response_expect_title(form, title) != GOOSE_OK;
    const char *token = goose_response_form_value(form, "form_token");
    const char *old = goose_response_form_value(form, "title");
    if (!failed && token && old) {
        snprintf(changed, sizeof changed, "%.280s (edited)", old);
        goose_request *req = goose_request_new(u, "POST", path);
        goose_request_set_name(req, "/node/[id]/edit");
        goose_request_add_form(req, "title", changed);
        copy_field(req, form, "body");
        copy_field(req, form, "status");
        goose_request_add_form(req, "form_token", token);
        goose_request_expect_status(req, 303);
        goose_response *r = goose_request_send(req);
        failed = goose_response_status(r) != 303;
        goose_response_free(r);
    } else if (!failed) {
        goose_response_set_failure(form, "no form_token or title in the edit form");
        failed = 1;
    }
    goose_response_free(form);
    return failed;
}

/* A node made with JSON, then read back by the id of the answer. */
static int create_node(goose_user *u)
{
    char json[64], title[32], path[48], id[24];
    snprintf(title, sizeof title, "honk %" PRIu64, goose_user_random(u) % 1000);
    snprintf(json, sizeof json, "{\"title\": \"%s\"}", title);
    goose_request *req = goose_request_new(u, "POST", "/api/nodes");
    goose_request_set_json(req, json);
    goose_request_expect_status(req, 201);
    goose_response *made = goose_request_send(req);
    const char *got = goose_response_json(made, "/data/id");
    int ok = got && strlen(got) < sizeof id;
    if (ok)
        snprintf(id, sizeof id, "%s", got);
    else if (goose_response_status(made) == 201)
        goose_response_set_failure(made, "no id in the answer");
    goose_response_free(made);
    if (!ok)
        return 1;

    snprintf(path, sizeof path, "/api/nodes/%s", id);
    goose_response *node = get_named(u, path, "/api/nodes/[id]");
    got = goose_response_json(node, "/data/title");
    int failed = !got || strcmp(got, title) != 0;
    if (failed)
        goose_response_set_failure(node, "the node read back is not the one made");
    goose_response_free(node);
    return failed;
}

static int log_out(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", "/user/logout");
    goose_request_expect_status(req, 303);
    goose_response *r = goose_request_send(req);
    int failed = goose_response_status(r) != 303;
    goose_response_free(r);
    return failed;
}

int main(int argc, char **argv)
{
    goose_attack *attack = goose_attack_new();

    goose_taskset *browse = goose_taskset_new("browse");
    goose_transaction_set_weight(
        goose_taskset_add_transaction(browse, "front page", front_page), 2);
    goose_transaction_set_weight(
        goose_taskset_add_transaction(browse, "node page", node_page), 6);
    goose_taskset_add_transaction(browse, "api lookup", api_lookup);

    goose_scenario *reader = goose_scenario_new("Anonymous reader");
    goose_scenario_set_weight(reader, 4);
    goose_scenario_set_wait_time(reader, 0, 20);
    goose_scenario_add_taskset(reader, browse);
    goose_attack_add_scenario(attack, reader);

    goose_scenario *editor = goose_scenario_new("Authenticated editor");
    goose_scenario_set_weight(editor, 1);
    goose_scenario_set_wait_time(editor, 10, 50);
    goose_transaction_set_on_start(
        goose_scenario_add_transaction(editor, "log in", log_in));
    goose_scenario_add_taskset(editor, browse);
    goose_transaction_set_weight(
        goose_scenario_add_transaction(editor, "edit node", edit_node), 2);
    goose_scenario_add_transaction(editor, "create node", create_node);
    goose_transaction_set_on_stop(
        goose_scenario_add_transaction(editor, "log out", log_out));
    goose_attack_add_scenario(attack, editor);

    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
