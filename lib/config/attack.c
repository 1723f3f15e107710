/* What every layer above needs of the attack: its error text, its log, the
 * first mistake made with it, and setting an option. */
#include "config/attack.h"

#include <stdio.h>
#include <string.h>

const char *goose_attack_error(const goose_attack *a)
{
    if (!a)
        return "attack is NULL";
    return a->error;
}

int goose__fail(goose_attack *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof a->error, fmt, ap);
    va_end(ap);
    return code;
}

void goose__log(goose_attack *a, goose_log_level level, const char *fmt, ...)
{
    if (!a->log_fn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    a->log_fn(a->log_arg, level, line);
}

/* The first mistake sticks to the attack until it is freed, as a
 * registration mistake does: a run refuses it (goose__run_begin). */
void goose__remember_mistake(goose_attack *a, int code)
{
    if (a->config_error)
        return;
    a->config_error = strdup(a->error);
    a->config_code = code;
}

int goose__set_option_from(goose_attack *a, const char *name, const char *value,
                           const char *source)
{
    if (atomic_load(&a->running)) /* a matter of timing, not of the options */
        return goose__fail(a, GOOSE_ESTATE, "options cannot change while the attack runs");
    char err[400] = "";
    int rc = goose__option_set(&a->opt, name, value, err, sizeof err);
    if (rc != GOOSE_OK) {
        goose__fail(a, rc, "%s%s", err[0] ? err : goose_strerror(rc), source);
        goose__remember_mistake(a, GOOSE_ECONFIG);
    }
    return rc;
}

int goose_attack_stop(goose_attack *a)
{
    if (!a)
        return GOOSE_EINVAL;
    int running = 0; /* a stop already ending at once stays so */
    atomic_compare_exchange_strong(&a->stop, &running, 1);
    return GOOSE_OK;
}
