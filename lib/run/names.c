/* Request names past --max-request-names: the one warning when they first
 * fold, and what the reports say of it.  Every run mode uses both. */
#include "run/run.h"

int goose__names_warn(goose_attack *a, goose_names *n, const char *where)
{
    char some[512];
    if (!n || !goose__names_warning_due(n, some, sizeof some))
        return 0;
    goose__log(a, GOOSE_LOG_WARN,
               "%smore than %zu request names (--max-request-names): new ones are "
               "counted under \"" GOOSE_OTHER_NAME "\", like %s; give dynamic paths one "
               "name with goose_request_set_name()",
               where ? where : "", goose__names_max(n), some);
    return 1;
}

void goose__names_report(goose_attack *a, goose_names *n,
                         const uint64_t others[GOOSE_NAMES_KINDS])
{
    goose_results *r = &a->results;
    uint64_t folded[GOOSE_NAMES_KINDS];
    r->max_request_names = a->opt.max_request_names;
    r->folded_exact = 1;
    for (int k = 0; k < GOOSE_NAMES_KINDS; k++)
        folded[k] = (others ? others[k] : 0) +
                    (n ? goose__names_folded(n, (goose_names_kind)k, &r->folded_exact) : 0);
    r->names_folded = folded[GOOSE_NAMES_REQUESTS];
    r->errors_folded = folded[GOOSE_NAMES_ERRORS];
    r->tx_errors_folded = folded[GOOSE_NAMES_TX_ERRORS];
}
