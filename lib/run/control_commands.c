/* The controller's commands, run by the control loop of a standalone run
 * or a Manager.  Users changes are new shapes: the history is kept, the
 * level from now on replaced, and the result applied to the engine (or
 * sent to every Worker) and to the collector, whose phases follow it. */
#include "run/control.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define USERS_MAX 10000000
#define HISTORY_MAX 100000 /* steps of the users' history a run keeps */

__attribute__((format(printf, 3, 4))) static void say(goose_control_reply *r, int ok,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    goose__buf_clear(&r->text);
    goose__buf_vprintf(&r->text, fmt, ap);
    va_end(ap);
    r->ok = ok;
}

int goose__control_state_init(goose_control_state *st, const goose_run_config *cfg)
{
    memset(st, 0, sizeof *st);
    st->hatch_rate = cfg->hatch_rate > 0 ? cfg->hatch_rate : 1;
    return goose__shape_copy(&st->shape, &cfg->shape);
}

void goose__control_state_free(goose_control_state *st)
{
    goose__shape_free(&st->shape);
}

static uint64_t since_start(const goose_control_run *run)
{
    uint64_t now = goose__now_us();
    return now > run->c->start_us ? now - run->c->start_us : 0;
}

/* The report counts every user the test had, by scenario. */
static void count_users(goose_results *res, const goose_run_config *cfg, double top)
{
    size_t users = (size_t)ceil(top);
    for (size_t i = res->users; i < users && res->scenario_users; i++)
        res->scenario_users[goose__scenario_at(cfg->alloc, i)]++;
    if (users > res->users)
        res->users = users;
}

/* The new shape goes to the users (from now on) and to the report's
 * phases (all of it). */
static int apply(goose_control_state *st, const goose_control_run *run, uint64_t plan_end,
                 goose_control_reply *r)
{
    count_users(&run->c->a->results, run->cfg, goose__shape_max(&st->shape));
    goose_shape ahead = {0};
    int rc = goose__shape_since(&ahead, &st->shape, since_start(run)) < 0
                 ? GOOSE_ENOMEM : run->apply(run->arg, &ahead, plan_end);
    goose__shape_free(&ahead);
    if (rc == GOOSE_OK && goose__collector_reshape(run->c, &st->shape) < 0)
        rc = GOOSE_ENOMEM;
    if (rc != GOOSE_OK) {
        say(r, 0, "cannot change the users: %s", goose_strerror(rc));
        return -1;
    }
    run->c->plan_end_us = plan_end;
    return 0;
}

/* Users changes need a running closed-model test. */
static int can_steer(const goose_control_state *st, const goose_control_run *run,
                     goose_control_reply *r)
{
    if (st->shutting_down)
        say(r, 0, "the test is shutting down");
    else if (run->waiting)
        say(r, 0, "the test has not started: %s", run->waiting);
    else if (run->c->decrease_from_us)
        say(r, 0, "the test is stopping");
    else if (run->cfg->open_model)
        say(r, 0, "the open model (--arrival-rate) runs a fixed pool of users");
    else if (st->shape.n > HISTORY_MAX)
        say(r, 0, "this run has changed its users %d times: no more changes", HISTORY_MAX / 2);
    else
        return 1;
    return 0;
}

/* GOOSE_DATA_UNIQUE gives each user its own row: never more users than
 * such a set has rows. */
static int fits_data(const goose_control_run *run, double users, goose_control_reply *r)
{
    for (size_t i = 0; i < run->cfg->ndatasets; i++) {
        const goose_dataset *d = &run->cfg->datasets[i];
        if (d->mode == GOOSE_DATA_UNIQUE && users > (double)d->table->nrows) {
            say(r, 0, "%.0f users: data \"%s\" has %zu rows: GOOSE_DATA_UNIQUE gives each "
                "user its own row", users, d->name, d->table->nrows);
            return 0;
        }
    }
    return 1;
}

static int parse_count(const char *v, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!v || !isdigit((unsigned char)*v))
        return -1;
    *out = strtoull(v, &end, 10);
    return *end || *out > max ? -1 : 0;
}

static void cmd_users(goose_control_state *st, const goose_control_run *run, const char *v,
                      goose_control_reply *r)
{
    unsigned long long n;
    if (parse_count(v, USERS_MAX, &n) < 0) {
        say(r, 0, "users takes a whole number from 0 to %d (not \"%s\")", USERS_MAX, v ? v : "");
        return;
    }
    if (!can_steer(st, run, r) || !fits_data(run, (double)n, r))
        return;
    uint64_t now = since_start(run);
    double from = goose__shape_level(&st->shape, now);
    if (goose__shape_retarget(&st->shape, now, (double)n, st->hatch_rate) < 0) {
        say(r, 0, "out of memory");
        return;
    }
    if (apply(st, run, 0, r) == 0)
        say(r, 1, "users %.0f -> %llu at %g/s", ceil(from), n, st->hatch_rate);
}

static void cmd_hatch_rate(goose_control_state *st, const goose_control_run *run, const char *v,
                           goose_control_reply *r)
{
    char *end = NULL;
    double rate = v ? strtod(v, &end) : 0;
    if (!v || !isdigit((unsigned char)*v) || *end || !(rate >= 0.0001) || rate > 1e7) {
        say(r, 0, "hatch-rate takes users per second from 0.0001 to 10000000 (not \"%s\")",
            v ? v : "");
        return;
    }
    if (!can_steer(st, run, r))
        return;
    st->hatch_rate = rate;
    uint64_t now = since_start(run);
    if (goose__shape_end(&st->shape) <= now || run->c->plan_end_us) {
        say(r, 1, "hatch rate %g/s for the next users change", rate);
        return;
    }
    double target = st->shape.steps[st->shape.n - 1].to; /* a ramp under way */
    if (goose__shape_retarget(&st->shape, now, target, rate) < 0)
        say(r, 0, "out of memory");
    else if (apply(st, run, 0, r) == 0)
        say(r, 1, "hatch rate %g/s: on to %.0f users", rate, target);
}

static void cmd_test_plan(goose_control_state *st, const goose_control_run *run, const char *v,
                          goose_control_reply *r)
{
    goose_shape plan = {0};
    char err[256];
    int rc = goose__shape_parse("test-plan", v ? v : "",
                                   GOOSE_PLAN_USERS | GOOSE_PLAN_FROM_NOW, USERS_MAX, &plan,
                                   err, sizeof err);
    if (rc != GOOSE_OK) {
        say(r, 0, "%s", err);
        return;
    }
    if (can_steer(st, run, r) && fits_data(run, goose__shape_max(&plan), r)) {
        uint64_t now = since_start(run);
        rc = goose__shape_cut(&st->shape, now);
        for (size_t i = 0; rc == 0 && i < plan.n; i++)
            rc = goose__shape_add(&st->shape, plan.steps[i].to,
                                  plan.steps[i].end_us - plan.steps[i].start_us);
        if (rc < 0)
            say(r, 0, "out of memory");
        else if (apply(st, run, goose__shape_end(&st->shape), r) == 0) {
            run->c->stop_at_us = 0; /* the plan ends the test, not --run-time */
            say(r, 1, "test plan \"%s\" from now: the test ends in %.1fs", v,
                (double)goose__shape_end(&plan) / 1e6);
        }
    }
    goose__shape_free(&plan);
}

static void cmd_stop(goose_control_state *st, const goose_control_run *run,
                     goose_control_reply *r)
{
    if (!can_steer(st, run, r))
        return;
    uint64_t now = since_start(run);
    if (goose__shape_level(&st->shape, now) == 0 && goose__shape_end(&st->shape) <= now) {
        say(r, 0, "already stopped: no users run (users N or test-plan PLAN starts them)");
        return;
    }
    if (goose__shape_retarget(&st->shape, now, 0, 0) < 0) {
        say(r, 0, "out of memory");
        return;
    }
    if (apply(st, run, 0, r) == 0) {
        run->c->stop_at_us = 0; /* idle until told: users N, test-plan or shutdown */
        say(r, 1, "stopped: every user finishes; users N or test-plan PLAN starts "
                  "again, shutdown ends the test");
    }
}

static void cmd_shutdown(goose_control_state *st, const goose_control_run *run,
                         goose_control_reply *r)
{
    if (st->shutting_down) {
        say(r, 0, "already shutting down");
        return;
    }
    st->shutting_down = 1;
    atomic_store(&run->c->a->stop, 1);
    say(r, 1, "shutting down: users finish, then the report");
}

static json_t *config_json(const goose_control_state *st, const goose_control_run *run)
{
    const goose_options *o = &run->c->a->opt;
    uint64_t now = since_start(run);
    double target = st->shape.n ? st->shape.steps[st->shape.n - 1].to : 0;
    return json_pack("{s:s, s:s?, s:I, s:I, s:f, s:s?, s:f, s:f, s:s?, s:b}",
                     "mode", run->c->a->role == GOOSE_ROLE_MANAGER ? "manager" : "standalone", "host", o->host,
                     "users", (json_int_t)ceil(goose__shape_level(&st->shape, now)),
                     "users_target", (json_int_t)target,
                     "hatch_rate", st->hatch_rate, "test_plan", o->test_plan,
                     "run_time_s", (double)o->run_time_us / 1e6,
                     "throttle_requests", o->throttle_rps, "arrival_plan", o->arrival_plan,
                     "open_model", run->cfg->open_model);
}

static void cmd_config(goose_control_state *st, const goose_control_run *run,
                       goose_control_reply *r)
{
    r->data = config_json(st, run);
    char *text = r->data ? json_dumps(r->data, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    say(r, text != NULL, "%s", text ? text : "out of memory");
    free(text);
}

/* The totals so far, as the end-of-run reports would show them. */
static void cmd_metrics(const goose_control_run *run, int as_json, goose_control_reply *r)
{
    goose_collector *c = run->c;
    goose_attack *a = c->a;
    goose__collector_totals(c);
    double elapsed = run->waiting ? 0 : (double)(goose__now_us() - c->measure_from_us) / 1e6;
    a->results.duration_s = a->results.elapsed_s = elapsed;
    char *text = as_json ? goose__report_render(a, "json")
                         : goose__report_running(&a->results.totals, elapsed, run->active);
    if (as_json && text)
        r->data = json_loads(text, 0, NULL);
    say(r, text != NULL, "%s", text ? text : "out of memory");
    free(text);
}

static const char HELP[] =
    "help                this list\n"
    "users N             change the users to N at the hatch rate\n"
    "hatch-rate R        users started (or stopped) per second from now on\n"
    "test-plan PLAN      follow PLAN (\"users,time;...\") from now; the test ends with it\n"
    "stop                stop every user; the test waits for users, test-plan or shutdown\n"
    "shutdown            end the test: users finish, then the report\n"
    "config              the test's configuration (JSON)\n"
    "metrics             the request table so far\n"
    "metrics-json        the JSON report so far\n";

void goose__control_execute(goose_control_state *st, const goose_control_run *run,
                            const char *command, const char *value,
                            goose_control_reply *r)
{
    if (!strcmp(command, "help"))
        say(r, 1, "%s", HELP);
    else if (!strcmp(command, "users"))
        cmd_users(st, run, value, r);
    else if (!strcmp(command, "hatch-rate") || !strcmp(command, "hatch_rate"))
        cmd_hatch_rate(st, run, value, r);
    else if (!strcmp(command, "test-plan") || !strcmp(command, "test_plan"))
        cmd_test_plan(st, run, value, r);
    else if (!strcmp(command, "stop"))
        cmd_stop(st, run, r);
    else if (!strcmp(command, "shutdown"))
        cmd_shutdown(st, run, r);
    else if (!strcmp(command, "config"))
        cmd_config(st, run, r);
    else if (!strcmp(command, "metrics"))
        cmd_metrics(run, 0, r);
    else if (!strcmp(command, "metrics-json") || !strcmp(command, "metrics_json"))
        cmd_metrics(run, 1, r);
    else
        say(r, 0, "unknown command \"%.40s\": try help", command);
}
