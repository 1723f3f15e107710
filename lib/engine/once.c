/* The engine's side of test_start and test_stop: their one user's outcome,
 * and the test data test_start sets for every user of the test (k6's
 * setup() data). */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>

#include "coro/coro.h"

void goose__once_note(goose_user *u, int success, int rc)
{
    goose_once_result *r = u->thread->engine->cfg.once_result;
    if (!r)
        return;
    r->ran = 1;
    r->failed = !success;
    if (success)
        r->why[0] = '\0';
    else if (u->tx_failed)
        snprintf(r->why, sizeof r->why, "%s",
                 u->tx_failure.len ? u->tx_failure.data : "goose_transaction_fail");
    else
        snprintf(r->why, sizeof r->why, "returned %d", rc);
}

/* A transaction of u is running (its coroutine is the one running). */
static int in_transaction(const goose_user *u)
{
    return u->coro && goose__coro_current() == u->coro;
}

int goose_test_set_data(goose_user *u, const void *data, size_t len)
{
    if (!u || (!data && len > 0))
        return GOOSE_EINVAL;
    const goose_run_config *cfg = &u->thread->engine->cfg;
    if (cfg->once != GOOSE_ONCE_START || !cfg->once_result || !in_transaction(u))
        return GOOSE_ESTATE;
    if (len > GOOSE_TEST_DATA_MAX) {
        char what[160];
        snprintf(what, sizeof what, "goose_test_set_data: %zu bytes, more than "
                 "GOOSE_TEST_DATA_MAX (%u)", len, GOOSE_TEST_DATA_MAX);
        goose__response_misuse(u, what);
        return GOOSE_EINVAL;
    }
    goose_once_result *r = cfg->once_result;
    goose__buf_clear(&r->data); /* a second call replaces the first */
    if (goose__buf_add(&r->data, data, len) < 0) { /* NUL-terminated: text stays a string */
        r->has_data = 0;
        return GOOSE_ENOMEM;
    }
    r->has_data = 1;
    return GOOSE_OK;
}

const void *goose_test_data(goose_user *u, size_t *len)
{
    const void *data = NULL;
    size_t n = 0;
    if (u) {
        const goose_run_config *cfg = &u->thread->engine->cfg;
        if (cfg->once == GOOSE_ONCE_START && cfg->once_result && cfg->once_result->has_data) {
            data = cfg->once_result->data.data; /* test_start reads what it set */
            n = cfg->once_result->data.len;
        } else if (cfg->test_data) {
            data = cfg->test_data;
            n = cfg->test_data_len;
        }
    }
    if (len)
        *len = n;
    return data;
}
