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
    st->hatch_rate = cfg && cfg->hatch_rate > 0 ? cfg->hatch_rate : 1;
    return cfg ? goose__shape_copy(&st->shape, &cfg->shape) : 0;
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
    if (run->stay && !strcmp(run->stay->state, "waiting"))
        say(r, 1, "shutting down: test %u has not started (no report), the manager ends",
            run->stay->test);
    else if (run->stay)
        say(r, 1, "shutting down: test %u ends (users finish, then its report), then the "
            "manager", run->stay->test);
    else
        say(r, 1, "shutting down: users finish, then the report");
}

static json_t *config_json(const goose_control_state *st, const goose_control_run *run)
{
    const goose_options *o = &run->c->a->opt;
    uint64_t now = since_start(run);
    double target = st->shape.n ? st->shape.steps[st->shape.n - 1].to : 0;
    json_t *j = json_pack("{s:s, s:s?, s:I, s:I, s:f, s:s?, s:f, s:f, s:s?, s:b}",
                     "mode", run->c->a->role == GOOSE_ROLE_MANAGER ? "manager" : "standalone", "host", o->host,
                     "users", (json_int_t)ceil(goose__shape_level(&st->shape, now)),
                     "users_target", (json_int_t)target,
                     "hatch_rate", st->hatch_rate, "test_plan", o->test_plan,
                     "run_time_s", (double)o->run_time_us / 1e6,
                     "throttle_requests", o->throttle_rps, "arrival_plan", o->arrival_plan,
                     "open_model", run->cfg->open_model);
    const goose_control_stay *stay = run->stay;
    if (j && stay && json_object_update_new(j, json_pack("{s:s, s:I, s:I, s:I}", "state",
                                                         stay->state, "test",
                                                         (json_int_t)stay->test, "workers",
                                                         (json_int_t)stay->workers, "tests",
                                                         (json_int_t)stay->tests)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
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

/* A Manager that stays up, while a test runs. */
static const char HELP_STAY[] =
    "help                this list\n"
    "users N             change the users to N at the hatch rate\n"
    "hatch-rate R        users started (or stopped) per second from now on\n"
    "test-plan PLAN      follow PLAN (\"users,time;...\") from now; the test ends with it\n"
    "stop                end this test: users finish, its report, then idle\n"
    "shutdown            end this test (users finish, its report), then the manager\n"
    "config              the test's configuration and the manager's state (JSON)\n"
    "metrics             the request table so far\n"
    "metrics-json        the JSON report so far\n";

/* ... and between tests. */
static const char HELP_IDLE[] =
    "help                this list\n"
    "start               run the next test on the Workers that joined\n"
    "users N             the next test's users (--users)\n"
    "hatch-rate R        the next test's hatch rate (--hatch-rate)\n"
    "run-time T          the next test's run time (--run-time)\n"
    "host URL            the next test's target (--host)\n"
    "test-plan PLAN      the next test's plan (--test-plan)\n"
    "arrival-rate R      the next test's arrival rate (--arrival-rate)\n"
    "report-file PATH..  the next test's report files, in place of --report-file (none:\n"
    "                    no file); {n} and {time} in a name are the test's number and start\n"
    "workers N           Workers the next test waits for (--expect-workers)\n"
    "                    (users, hatch-rate, run-time, test-plan, arrival-rate: none\n"
    "                    drops the option, so that the ones it excludes may be given)\n"
    "config              the next test's options and the manager's state (JSON)\n"
    "shutdown            end the manager\n";

/* ---- a run that stays up: the commands between tests ---- */

/* The commands that set an option of the next test, and its name. */
static const char *const NEXT_OPTIONS[][2] = {
    {"users", "users"},           {"hatch-rate", "hatch-rate"},
    {"run-time", "run-time"},     {"host", "host"},
    {"test-plan", "test-plan"},   {"arrival-rate", "arrival-rate"},
    {"report-file", "report-file"}, {"workers", "expect-workers"}};

/* The option a command sets ("hatch_rate" is "hatch-rate"), or NULL. */
static const char *next_option(const char *command)
{
    char name[32];
    size_t n = strlen(command);
    if (n >= sizeof name)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        name[i] = command[i] == '_' ? '-' : command[i];
    for (size_t i = 0; i < sizeof NEXT_OPTIONS / sizeof NEXT_OPTIONS[0]; i++)
        if (!strcmp(name, NEXT_OPTIONS[i][0]))
            return NEXT_OPTIONS[i][1];
    return NULL;
}

/* "report-file a.json b.html" replaces the list: every name is checked
 * first, so a refused one leaves the list as it was. */
static int set_report_files(goose_options *o, const char *value, char *err, size_t errlen)
{
    char *copy = strdup(value), *save = NULL;
    goose_options scratch;
    goose__options_init(&scratch);
    int rc = copy ? GOOSE_OK : GOOSE_ENOMEM;
    int none = copy && !strcmp(value, "none");
    for (char *p = copy && !none ? strtok_r(copy, " \t", &save) : NULL; p && rc == GOOSE_OK;
         p = strtok_r(NULL, " \t", &save))
        rc = goose__option_set(&scratch, "report-file", p, err, errlen);
    if (rc == GOOSE_OK && !none && !scratch.nreport_files)
        rc = goose__option_set(&scratch, "report-file", NULL, err, errlen);
    if (rc == GOOSE_OK) {
        for (size_t i = 0; i < o->nreport_files; i++)
            free(o->report_files[i]);
        free(o->report_files);
        o->report_files = scratch.report_files;
        o->nreport_files = scratch.nreport_files;
        scratch.report_files = NULL;
        scratch.nreport_files = 0;
    }
    goose__options_free(&scratch);
    free(copy);
    return rc;
}

/* "test-plan none" and the like: the option is no longer given (its
 * default again), so the options it excludes may be; 0, or -1 for an
 * option that has no "none". */
static int clear_option(goose_options *o, const char *option)
{
    int id = goose__option_id(option);
    if (!strcmp(option, "test-plan")) {
        free(o->test_plan);
        o->test_plan = NULL;
    } else if (!strcmp(option, "arrival-rate")) {
        o->arrival_rate = 0;
    } else if (!strcmp(option, "users")) {
        o->users = 0;
    } else if (!strcmp(option, "hatch-rate")) {
        o->hatch_rate = 0;
    } else if (!strcmp(option, "run-time")) {
        o->run_time_us = 0;
    } else {
        return -1;
    }
    o->set_mask[id / 64] &= ~(1ull << id % 64);
    return 0;
}

/* The next test's option, through the option table's own parser and
 * checks: the flag's one-line errors, a refused value leaves the old. */
static void set_next(goose_attack *a, const char *option, const char *value,
                     goose_control_reply *r)
{
    char err[400] = "";
    int rc;
    if (!strcmp(option, "report-file") && value)
        rc = set_report_files(&a->opt, value, err, sizeof err);
    else if (value && !strcmp(value, "none") && clear_option(&a->opt, option) == 0)
        rc = GOOSE_OK;
    else
        rc = goose__option_set(&a->opt, option, value, err, sizeof err);
    int same_file = !strcmp(option, "report-file") && value && !strstr(value, "{n}") &&
                    !strstr(value, "{time}") && strcmp(value, "none");
    if (rc != GOOSE_OK)
        say(r, 0, "%s", err[0] ? err : goose_strerror(rc));
    else
        say(r, 1, "the next test has --%s %s%s", option, value,
            same_file ? " (no {n} or {time}: each test overwrites it)" : "");
}

static json_t *report_files_json(const goose_options *o)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < o->nreport_files; i++)
        json_array_append_new(list, json_string(o->report_files[i]));
    return list;
}

/* The next test's options and the run's state. */
static void idle_config(const goose_control_stay *stay, goose_control_reply *r)
{
    const goose_options *o = &stay->a->opt;
    r->data = json_pack("{s:s, s:s, s:I, s:I, s:s?, s:I, s:f, s:f, s:s?, s:f, s:s?, s:I, s:o}",
                        "mode", "manager", "state", stay->state, "workers",
                        (json_int_t)stay->workers, "tests", (json_int_t)stay->tests, "host",
                        o->host, "users", (json_int_t)o->users, "hatch_rate", o->hatch_rate,
                        "run_time_s", (double)o->run_time_us / 1e6, "test_plan", o->test_plan,
                        "arrival_rate", o->arrival_rate, "arrival_plan", o->arrival_plan,
                        "expect_workers", (json_int_t)o->expect_workers, "report_files",
                        report_files_json(o));
    char *text = r->data ? json_dumps(r->data, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    say(r, text != NULL, "%s", text ? text : "out of memory");
    free(text);
}

/* 1 when the command was one of a run that stays up, answered in r. */
static int stay_command(goose_control_state *st, const goose_control_run *run,
                        const char *command, const char *value, goose_control_reply *r)
{
    const goose_control_stay *stay = run->stay;
    const char *option = next_option(command);
    int idle = run->c == NULL;
    char answer[512] = "";
    if (!strcmp(command, "start") || !strcmp(command, "stop")) {
        int ok = !strcmp(command, "start") ? stay->start(stay->arg, answer, sizeof answer)
                                           : stay->stop(stay->arg, answer, sizeof answer);
        say(r, ok, "%s", answer);
    } else if (!strcmp(command, "help")) {
        say(r, 1, "%s", idle ? HELP_IDLE : HELP_STAY);
    } else if (idle && option) {
        set_next(stay->a, option, value, r);
    } else if (option && strcmp(option, "users") && strcmp(option, "hatch-rate") &&
               strcmp(option, "test-plan")) {
        say(r, 0, "%s is for the next test: test %u is %s (change it once the test ended)",
            command, stay->test, stay->state);
    } else if (idle && !strcmp(command, "config")) {
        idle_config(stay, r);
    } else if (idle && !strcmp(command, "shutdown")) {
        st->shutting_down = 1;
        atomic_store(&stay->a->stop, 1);
        say(r, 1, "shutting down: no test runs, the manager ends");
    } else if (idle && !strncmp(command, "metrics", 7)) {
        say(r, 0, "no test is running: start runs the next one (the last one's report is "
            "in its --report-file)");
    } else {
        return 0;
    }
    return 1;
}

void goose__control_execute(goose_control_state *st, const goose_control_run *run,
                            const char *command, const char *value,
                            goose_control_reply *r)
{
    if (run->stay && stay_command(st, run, command, value, r))
        return;
    if (!run->c) /* idle: nothing below has a test to act on */
        say(r, 0, "unknown command \"%.40s\": try help", command);
    else if (!strcmp(command, "help"))
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
