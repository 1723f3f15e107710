/* goose_attack: options, the scenarios it owns, and the standalone run:
 * increase (hatching) -> maintain (run time) -> decrease (users finish,
 * on_stop runs) -> report. */
#include "attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

goose_attack *goose_attack_new(void)
{
    goose_attack *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    goose__options_init(&a->opt);
    return a;
}

void goose__results_free(goose_results *r)
{
    goose__stats_free(&r->totals);
    free(r->phases);
    free(r->load.test_plan);
    free(r->load.arrival_plan);
    free(r->series.users);
    free(r->series.rps);
    free(r->series.p50_us);
    free(r->series.p95_us);
    free(r->series.p99_us);
    free(r->series.fails);
    for (size_t i = 0; i < r->series.nkeys; i++) {
        free(r->series.keys[i].method);
        free(r->series.keys[i].name);
        free(r->series.keys[i].counts);
    }
    free(r->series.keys);
    free(r->series.key_slots);
    for (size_t i = 0; i < r->ntxs; i++) {
        free((char *)r->txs[i].scenario);
        free((char *)r->txs[i].name);
    }
    free(r->txs);
    for (size_t i = 0; i < r->nscenarios; i++) {
        free(r->scenario_names[i]);
        free(r->hosts[i]);
    }
    free(r->scenario_names);
    free(r->hosts);
    free(r->scenario_users);
    free(r->workers);
    for (size_t i = 0; i < r->nthresholds; i++)
        goose__threshold_free(&r->thresholds[i].t);
    free(r->thresholds);
    memset(r, 0, sizeof *r);
}

void goose_attack_free(goose_attack *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nscenarios; i++)
        goose_scenario_free(a->scenarios[i]);
    free(a->scenarios);
    free(a->config_error);
    goose__options_free(&a->opt);
    goose__results_free(&a->results);
    goose__baseline_free(a->baseline);
    if (a->data_free)
        a->data_free(a->data);
    free(a);
}

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

int goose_attack_set_option(goose_attack *a, const char *name, const char *value)
{
    return a ? goose__set_option_from(a, name, value, "") : GOOSE_EINVAL;
}

int goose_attack_set_data(goose_attack *a, void *data, void (*free_fn)(void *))
{
    if (!a)
        return GOOSE_EINVAL;
    if (a->data_free && a->data != data)
        a->data_free(a->data);
    a->data = data;
    a->data_free = free_fn;
    return GOOSE_OK;
}

void *goose_attack_data(const goose_attack *a)
{
    return a ? a->data : NULL;
}

int goose_attack_set_log(goose_attack *a, goose_log_fn fn, void *arg)
{
    if (!a)
        return GOOSE_EINVAL;
    a->log_fn = fn;
    a->log_arg = arg;
    return GOOSE_OK;
}

/* The attack owns the scenario from here on, even when it refuses it. */
int goose_attack_add_scenario(goose_attack *a, goose_scenario *s)
{
    int rc = GOOSE_OK;
    if (!a) {
        goose_scenario_free(s);
        return GOOSE_EINVAL;
    }
    if (!s) {
        rc = goose__fail(a, GOOSE_EINVAL, "scenario is NULL (did goose_scenario_new "
                         "get a NULL or empty name?)");
    } else if (s->error) {
        rc = goose__fail(a, GOOSE_ECONFIG, "%s", s->error);
    } else {
        for (size_t i = 0; i < a->nscenarios; i++)
            if (strcmp(a->scenarios[i]->name, s->name) == 0)
                rc = goose__fail(a, GOOSE_EEXIST, "duplicate scenario name \"%s\"",
                                 s->name);
    }
    goose_scenario **list = rc == GOOSE_OK
        ? realloc(a->scenarios, (a->nscenarios + 1) * sizeof *list) : NULL;
    if (rc == GOOSE_OK && !list)
        rc = goose__fail(a, GOOSE_ENOMEM, "out of memory");
    if (rc != GOOSE_OK) {
        goose__remember_mistake(a, rc);
        goose_scenario_free(s);
        return rc;
    }
    a->scenarios = list;
    a->scenarios[a->nscenarios++] = s;
    return GOOSE_OK;
}

int goose_attack_stop(goose_attack *a)
{
    if (!a)
        return GOOSE_EINVAL;
    int running = 0; /* a stop already ending at once stays so */
    atomic_compare_exchange_strong(&a->stop, &running, 1);
    return GOOSE_OK;
}

char *goose_attack_report(const goose_attack *a, const char *format)
{
    if (!a || !a->results.valid || !format)
        return NULL;
    if (strcmp(format, "json") == 0)
        return goose__report_json(a);
    if (strcmp(format, "text") == 0)
        return goose__report_text(a);
    if (strcmp(format, "html") == 0)
        return goose__report_html(a);
    if (strcmp(format, "md") == 0)
        return goose__report_markdown(a);
    if (strcmp(format, "csv") == 0)
        return goose__report_csv(a);
    return NULL;
}


/* Every run (standalone, Manager, Worker) holds the attack for its length. */
int goose__run_begin(goose_attack *a, int clear_stop)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_exchange(&a->running, 1))
        return goose__fail(a, GOOSE_ESTATE, "the attack is already running");
    if (clear_stop)
        atomic_store(&a->stop, 0);
    a->error[0] = '\0';
    if (a->config_error) { /* a refused option or registration */
        int code = a->config_code;
        goose__fail(a, code, "%s", a->config_error);
        goose__run_end(a);
        return code;
    }
    return GOOSE_OK;
}

void goose__run_end(goose_attack *a)
{
    atomic_store(&a->stop, 0); /* the next run starts afresh */
    atomic_store(&a->running, 0);
}
