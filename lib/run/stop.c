/* The graceful stop, bounded by --stop-timeout: the users finish their
 * iteration, and those still running when it is up (or at once on a second
 * stop) are abandoned.  Every run mode uses it. */
#include "run/run.h"

int goose__stop_urgent(const goose_attack *a)
{
    return atomic_load(&((goose_attack *)a)->stop) >= 2;
}

void goose__stop_clock_tick(goose_stop_clock *sc, goose_attack *a, goose_engine *e,
                            uint64_t now, int urgent)
{
    if (sc->abandoned)
        return;
    if (!sc->since_us)
        sc->since_us = now;
    if (!urgent && now - sc->since_us < a->opt.stop_timeout_us)
        return;
    sc->abandoned = 1;
    if (urgent)
        goose__log(a, GOOSE_LOG_WARN, "asked again to stop: abandoning the users still running");
    else
        goose__log(a, GOOSE_LOG_WARN, "the stop timeout (%gs) is up: abandoning the users "
                   "still running", (double)a->opt.stop_timeout_us / 1e6);
    goose__engine_abandon(e);
}

void goose__stop_clock_record(goose_attack *a, size_t abandoned)
{
    a->results.abandoned_users = abandoned;
    if (abandoned)
        goose__log(a, GOOSE_LOG_WARN, "%zu users abandoned: they had not finished within "
                   "--stop-timeout (their requests in flight count as failed)", abandoned);
}
