/*
 * goose.h - libgoose, an embeddable C library for HTTP load testing.
 *
 * A load test is a C program: register scenarios made of transactions,
 * then hand control to goose_main() (flags, GOOSE_* environment, report)
 * or goose_attack_run() (options set through goose_attack_set_option()).
 * See goose(7) for how a test runs and the man pages in section 3 for
 * each function.
 */
#ifndef GOOSE_H
#define GOOSE_H

#include <stddef.h>
#include <stdint.h>

#include <goose/version.h>

#if defined(_WIN32)
#define GOOSE_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define GOOSE_API __attribute__((visibility("default")))
#else
#define GOOSE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes.  This list only grows; a value is never renumbered. */
typedef enum goose_error {
    GOOSE_OK = 0,
    GOOSE_EINVAL = -1,        /* NULL or otherwise invalid argument */
    GOOSE_ENOMEM = -2,        /* out of memory */
    GOOSE_EOPTION = -3,       /* unknown option name */
    GOOSE_EVALUE = -4,        /* bad option value */
    GOOSE_EUNSUPPORTED = -5,  /* known option, not supported yet */
    GOOSE_ECONFIG = -6,       /* the attack as configured cannot run */
    GOOSE_ESTATE = -7,        /* not allowed in the current state */
    GOOSE_EIO = -8,           /* a file could not be read or written */
    GOOSE_ESYS = -9,          /* a system resource failed (threads, fds) */
    GOOSE_EEXIST = -10,       /* a name is already taken */
    GOOSE_EFAILED = -11,      /* a check failed, or the run could not complete as configured */
    GOOSE_ETHRESHOLD = -12,   /* a --threshold failed; the run and its report are complete */
    GOOSE_ESTOPPING = -13     /* the test is stopping: end the transaction */
} goose_error;

typedef struct goose_attack goose_attack;
typedef struct goose_scenario goose_scenario;
typedef struct goose_taskset goose_taskset;
typedef struct goose_transaction goose_transaction;
typedef struct goose_user goose_user;
typedef struct goose_request goose_request;
typedef struct goose_response goose_response;
typedef struct gaggle_worker gaggle_worker;
typedef struct goose_batch goose_batch;

/* A transaction returns GOOSE_OK, or any non-zero value for a failure. */
typedef int (*goose_transaction_fn)(goose_user *user);

typedef enum goose_log_level {
    GOOSE_LOG_ERROR = 0,
    GOOSE_LOG_WARN = 1,
    GOOSE_LOG_INFO = 2,
    GOOSE_LOG_DEBUG = 3
} goose_log_level;

/* Receives every line the library would log; called from any thread. */
typedef void (*goose_log_fn)(void *arg, goose_log_level level,
                             const char *line);

/* Version and errors */
GOOSE_API const char *goose_version(void);
GOOSE_API unsigned goose_version_num(void);
GOOSE_API const char *goose_strerror(int code);

/* The attack */
GOOSE_API goose_attack *goose_attack_new(void);
GOOSE_API void goose_attack_free(goose_attack *attack);
GOOSE_API const char *goose_attack_error(const goose_attack *attack);
GOOSE_API int goose_attack_set_option(goose_attack *attack, const char *name,
                                      const char *value);
/* Flags and GOOSE_* environment into the options, as goose_main() reads
 * them, without running; 1 when --help, --version or --scenarios-list
 * asked for nothing to run. */
GOOSE_API int goose_attack_parse_args(goose_attack *attack, int argc,
                                      char **argv);
GOOSE_API int goose_attack_set_data(goose_attack *attack, void *data,
                                    void (*free_fn)(void *));
GOOSE_API void *goose_attack_data(const goose_attack *attack);
GOOSE_API int goose_attack_set_log(goose_attack *attack, goose_log_fn fn,
                                   void *arg);
GOOSE_API int goose_attack_add_scenario(goose_attack *attack,
                                        goose_scenario *scenario);

/* Scenarios */
GOOSE_API goose_scenario *goose_scenario_new(const char *name);
GOOSE_API void goose_scenario_free(goose_scenario *scenario);
GOOSE_API int goose_scenario_set_weight(goose_scenario *scenario,
                                        unsigned weight);
GOOSE_API int goose_scenario_set_wait_time(goose_scenario *scenario,
                                           unsigned min_ms, unsigned max_ms);
GOOSE_API int goose_scenario_set_host(goose_scenario *scenario,
                                      const char *url);
GOOSE_API goose_transaction *
goose_scenario_add_transaction(goose_scenario *scenario, const char *name,
                               goose_transaction_fn fn);
GOOSE_API int goose_scenario_add_taskset(goose_scenario *scenario,
                                         goose_taskset *taskset);

/* Task sets: named groups of transactions shared by scenarios. */
GOOSE_API goose_taskset *goose_taskset_new(const char *name);
GOOSE_API void goose_taskset_free(goose_taskset *taskset);
GOOSE_API goose_transaction *
goose_taskset_add_transaction(goose_taskset *taskset, const char *name,
                              goose_transaction_fn fn);

/* Transactions */
GOOSE_API int goose_transaction_set_weight(goose_transaction *transaction,
                                           unsigned weight);
GOOSE_API int goose_transaction_set_sequence(goose_transaction *transaction,
                                             unsigned sequence);
GOOSE_API int goose_transaction_set_on_start(goose_transaction *transaction);
GOOSE_API int goose_transaction_set_on_stop(goose_transaction *transaction);

/* Test data: a CSV file (RFC 4180, the first row names the columns)
 * under a name; --data NAME=PATH reads another file at run time. */
typedef enum goose_data_mode {
    GOOSE_DATA_UNIQUE = 1,   /* each user its own row, for its whole life */
    GOOSE_DATA_CIRCULAR = 2, /* each iteration the test's next row, wrapping */
    GOOSE_DATA_RANDOM = 3    /* each iteration a random row (--seed) */
} goose_data_mode;
GOOSE_API int goose_attack_add_data(goose_attack *attack, const char *name,
                                    const char *path, int mode);

/* Once per test, on a user of their own: test_start before the first
 * user starts (a non-zero return stops the test), test_stop after the
 * last user ended.  In a Gaggle they run on the Manager. */
GOOSE_API int goose_attack_set_test_start(goose_attack *attack,
                                          goose_transaction_fn fn);
GOOSE_API int goose_attack_set_test_stop(goose_attack *attack,
                                         goose_transaction_fn fn);

/* Running */
GOOSE_API int goose_main(goose_attack *attack, int argc, char **argv);
GOOSE_API int goose_attack_run(goose_attack *attack);
GOOSE_API int goose_attack_stop(goose_attack *attack);
GOOSE_API char *goose_attack_report(const goose_attack *attack,
                                    const char *format);
GOOSE_API void goose_free(void *ptr);

/* Distributed mode (Gaggle) */
GOOSE_API int gaggle_manager_run(goose_attack *attack);
GOOSE_API int gaggle_worker_run(goose_attack *attack);
/* A Worker on a thread of its own, for a program with its own loop. */
GOOSE_API gaggle_worker *gaggle_worker_start(goose_attack *attack);
GOOSE_API int gaggle_worker_stop(gaggle_worker *worker);
GOOSE_API int gaggle_worker_done(const gaggle_worker *worker);
GOOSE_API int gaggle_worker_join(gaggle_worker *worker);
/* Where a Worker stands (gaggle_worker_state).  With --worker-reconnect
 * it goes round JOINED -> RUNNING -> JOINED test after test, and back to
 * DIALING when its Manager goes away; STOPPED is the end. */
typedef enum gaggle_worker_status {
    GAGGLE_WORKER_DIALING = 1, /* looking for its Manager */
    GAGGLE_WORKER_JOINED = 2,  /* joined: waiting for a test (or the next) */
    GAGGLE_WORKER_RUNNING = 3, /* a test runs: its users, then their last metrics */
    GAGGLE_WORKER_STOPPED = 4  /* over: gaggle_worker_join() will not wait */
} gaggle_worker_status;
/* Readable when the state changed (a host loop's poll, epoll, libevent or
 * libuv watches it); gaggle_worker_state() reads the state and makes it
 * unreadable until the next change.  Owned by the Worker: closed by
 * gaggle_worker_join(). */
GOOSE_API int gaggle_worker_fd(gaggle_worker *worker);
GOOSE_API int gaggle_worker_state(gaggle_worker *worker);

/* Inside a transaction: requests */
GOOSE_API goose_response *goose_get(goose_user *user, const char *path);
GOOSE_API goose_response *goose_post(goose_user *user, const char *path,
                                     const void *body, size_t len);
GOOSE_API goose_request *goose_request_new(goose_user *user,
                                           const char *method,
                                           const char *path);
GOOSE_API int goose_request_set_name(goose_request *request, const char *name);
GOOSE_API int goose_request_set_header(goose_request *request,
                                       const char *name, const char *value);
GOOSE_API int goose_request_set_body(goose_request *request, const void *body,
                                     size_t len);
GOOSE_API int goose_request_expect_status(goose_request *request, int status);
/* An application/x-www-form-urlencoded body, one field per call. */
GOOSE_API int goose_request_add_form(goose_request *request, const char *name,
                                     const char *value);
/* The body and Content-Type: application/json; a text that is not JSON is
 * refused. */
GOOSE_API int goose_request_set_json(goose_request *request, const char *json);
/* name=value appended to the path's query, percent-encoded. */
GOOSE_API int goose_request_add_query(goose_request *request, const char *name,
                                      const char *value);
/* This request's whole time limit, in place of --timeout. */
GOOSE_API int goose_request_set_timeout(goose_request *request, long ms);
GOOSE_API int goose_request_set_basic_auth(goose_request *request,
                                           const char *user,
                                           const char *password);
GOOSE_API goose_response *goose_request_send(goose_request *request);
GOOSE_API void goose_request_free(goose_request *request);

/* Inside a transaction: responses */
GOOSE_API int goose_response_status(const goose_response *response);
GOOSE_API const char *goose_response_body(const goose_response *response,
                                          size_t *len);
GOOSE_API const char *goose_response_header(const goose_response *response,
                                            const char *name);
GOOSE_API const char *goose_response_error(const goose_response *response);
GOOSE_API long long goose_response_time_us(const goose_response *response);
GOOSE_API int goose_response_set_failure(goose_response *response,
                                         const char *why);
GOOSE_API void goose_response_free(goose_response *response);
/* Reading a response: each result lives until the response is freed;
 * NULL when absent.  The body is parsed once, when first asked. */
GOOSE_API const char *goose_response_extract(goose_response *response,
                                             const char *pattern);
GOOSE_API const char *goose_response_json(goose_response *response,
                                          const char *pointer);
GOOSE_API const char *goose_response_form_value(goose_response *response,
                                                const char *field);
GOOSE_API const char *goose_response_title(goose_response *response);
GOOSE_API size_t goose_response_header_count(goose_response *response);
GOOSE_API int goose_response_header_at(goose_response *response, size_t i,
                                       const char **name, const char **value);
/* Checking a response: a check that does not hold fails the request. */
GOOSE_API int goose_response_expect_text(goose_response *response,
                                         const char *text);
GOOSE_API int goose_response_expect_title(goose_response *response,
                                          const char *title);
GOOSE_API int goose_response_expect_header(goose_response *response,
                                           const char *name,
                                           const char *value);

/* Inside a transaction: like a browser */
GOOSE_API int goose_load_assets(goose_user *user, goose_response *page);
GOOSE_API goose_batch *goose_batch_new(goose_user *user);
GOOSE_API int goose_batch_add(goose_batch *batch, goose_request *request);
GOOSE_API int goose_batch_send(goose_batch *batch);
GOOSE_API goose_response *goose_batch_response(goose_batch *batch, size_t i);
GOOSE_API void goose_batch_free(goose_batch *batch);

/* Inside a transaction: the user */
GOOSE_API int goose_sleep(goose_user *user, unsigned ms);
GOOSE_API int goose_user_set_data(goose_user *user, void *data,
                                  void (*free_fn)(void *));
GOOSE_API void *goose_user_data(const goose_user *user);
GOOSE_API unsigned goose_user_index(const goose_user *user);
GOOSE_API goose_attack *goose_user_attack(const goose_user *user);
/* The user's own generator: the same sequence per user index for a --seed. */
GOOSE_API uint64_t goose_user_random(goose_user *user);
/* This user stops after the current transaction (its on_stop runs). */
GOOSE_API int goose_user_stop(goose_user *user);
/* Why the running transaction failed, for the errors table. */
GOOSE_API int goose_transaction_fail(goose_user *user, const char *why);
/* The user's value of a column of test data (goose_attack_add_data); NULL
 * for an unknown name or column.  Valid until the transaction returns. */
GOOSE_API const char *goose_user_value(goose_user *user, const char *name,
                                       const char *column);
/* test_start's data for every user of the test (in a Gaggle, every
 * Worker's): set only inside test_start, at most GOOSE_TEST_DATA_MAX. */
#define GOOSE_TEST_DATA_MAX (16u * 1024 * 1024)
GOOSE_API int goose_test_set_data(goose_user *user, const void *data,
                                  size_t len);
GOOSE_API const void *goose_test_data(goose_user *user, size_t *len);

/* Inside a transaction: any protocol.  The user waits on its own socket;
 * a transaction never blocks its thread.  goose_wait_fd returns the ready
 * events, 0 on timeout (timeout_ms < 0: none), GOOSE_ESTOPPING when the
 * test is stopping, or another negative code. */
#define GOOSE_READ 1
#define GOOSE_WRITE 2
GOOSE_API int goose_wait_fd(goose_user *user, int fd, int events,
                            long timeout_ms);
/* A monotonic clock in microseconds, the one the metrics use. */
GOOSE_API int64_t goose_now_us(void);
/* One request of any kind (method "REDIS", name "GET session") from
 * start_us to end_us (goose_now_us), error NULL for a success: counted
 * as an HTTP request is, in every report. */
GOOSE_API int goose_record(goose_user *user, const char *method,
                           const char *name, int64_t start_us, int64_t end_us,
                           const char *error);

#ifdef __cplusplus
}
#endif

#endif
