/* --controller: live control of a running test over one TCP port that
 * speaks two protocols - telnet-style lines ("users 100") and HTTP with
 * JSON (POST /users {"value": 100}).  The server has a thread of its own;
 * commands are executed by the run's control loop (standalone or
 * Manager), which polls for them every tick, so nothing of the run is
 * touched from another thread. */
#ifndef GOOSE_CONTROL_CONTROL_H
#define GOOSE_CONTROL_CONTROL_H

#include <jansson.h>

#include "run/run.h"
#include "util/buf.h"

typedef struct goose_control goose_control;

/* A run that stays up between tests (a --no-autostart Manager): what the
 * commands between tests need. */
typedef struct goose_control_stay {
    goose_attack *a;
    const char *state;       /* "idle" (no test set up), "waiting" (for its
                                Workers) or "running" */
    unsigned test;           /* the test set up (not idle), from 1 */
    size_t workers;          /* Workers joined (members) */
    unsigned tests;          /* tests ended so far */
    /* start sets the next test up; stop ends the test set up (before its
       START: cancels it).  Each writes its one-line answer and returns 1
       when it did what was asked, 0 when it refused. */
    int (*start)(void *arg, char *answer, size_t len);
    int (*stop)(void *arg, char *answer, size_t len);
    void *arg;
} goose_control_stay;

/* What a command needs of the run that polls. */
typedef struct goose_control_run {
    goose_collector *c;      /* NULL while a run that stays up is idle */
    const goose_run_config *cfg; /* NULL then too */
    const char *waiting;     /* why the test has not started, or NULL */
    size_t active;           /* users running now */
    /* Users follow `shape` from now on; a plan ends the run at plan_end_us
     * (since the start; 0: no end).  GOOSE_OK or an error code. */
    int (*apply)(void *arg, const goose_shape *shape, uint64_t plan_end_us);
    void *arg;
    const goose_control_stay *stay; /* NULL: the run is one test */
} goose_control_run;

/* A command and its answer. */
typedef struct goose_control_reply {
    int ok;
    goose_buf text;          /* the answer for a terminal */
    json_t *data;            /* for HTTP; NULL: {"message": text} */
} goose_control_reply;

/* NULL when it cannot listen (the attack's error says why); cfg NULL: no
 * test is set up yet (see goose__control_reset). */
goose_control *goose__control_start(goose_attack *a, const char *hostport,
                                    const goose_run_config *cfg);
/* Executes the pending command, if any. */
void goose__control_poll(goose_control *ctl, const goose_control_run *run);
/* The users' shape and hatch rate of a new test (cfg NULL: none, idle);
 * -1 when out of memory.  Called by the thread that polls. */
int goose__control_reset(goose_control *ctl, const goose_run_config *cfg);
void goose__control_stop(goose_control *ctl);

/* control_commands.c: runs one command line ("users 10") against the run. */
typedef struct goose_control_state {
    goose_shape shape;       /* the users over time, history included */
    double hatch_rate;       /* for "users N" */
    int shutting_down;
} goose_control_state;

int goose__control_state_init(goose_control_state *st, const goose_run_config *cfg);
void goose__control_state_free(goose_control_state *st);
void goose__control_execute(goose_control_state *st, const goose_control_run *run,
                            const char *command, const char *value,
                            goose_control_reply *reply);

#endif
