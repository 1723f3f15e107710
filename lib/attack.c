/* goose_attack: options, the scenarios it owns, and the standalone run:
 * increase (hatching) -> maintain (run time) -> decrease (users finish,
 * on_stop runs) -> report. */
#include "run/run.h"

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
    goose__data_free(a);
    if (a->data_free)
        a->data_free(a->data);
    free(a);
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

char *goose_attack_report(const goose_attack *a, const char *format)
{
    if (!a || !a->results.valid)
        return NULL;
    return goose__report_render(a, format);
}

