/*
 * bench/assets.c - the libgoose side of `make bench-assets`.
 *
 * One scenario, one transaction: GET /page.html and goose_load_assets()
 * on it (20 assets), as a browser loads a page; users do not wait.  Run
 * with --no-cache so every page loads all its assets.  A transaction
 * whose page did not load its 20 assets fails (the summary checks none
 * did).
 *
 *   cc -O2 -Iinclude bench/assets.c -Lbuild -Wl,-rpath,$PWD/build -lgoose \
 *      -o bench/out/assets-load
 */
#include <goose.h>

static int page(goose_user *user)
{
    goose_response *r = goose_get(user, "/page.html");
    int n = goose_load_assets(user, r);
    goose_response_free(r);
    return n == 20 ? GOOSE_OK : 1;
}

int main(int argc, char **argv)
{
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Browser");
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(attack, s);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
