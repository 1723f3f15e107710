/* goose_attack_set_test_start and goose_attack_set_test_stop: kept on the
 * attack; the plan gives each a scenario of its own (plan.c) and the run
 * runs them once (run/once.c). */
#include "config/attack.h"

static int set_once(goose_attack *a, goose_transaction_fn *slot, goose_transaction_fn fn,
                    const char *what)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_load(&a->running))
        return goose__fail(a, GOOSE_ESTATE, "%s cannot change while the attack runs", what);
    *slot = fn; /* NULL removes it */
    return GOOSE_OK;
}

int goose_attack_set_test_start(goose_attack *a, goose_transaction_fn fn)
{
    return set_once(a, a ? &a->test_start : NULL, fn, "test_start");
}

int goose_attack_set_test_stop(goose_attack *a, goose_transaction_fn fn)
{
    return set_once(a, a ? &a->test_stop : NULL, fn, "test_stop");
}
