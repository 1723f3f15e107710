/* Helpers for the Gaggle tests: real Manager and Worker processes on
 * 127.0.0.1 against the bundled target, their logs and reports. */
#ifndef GOOSE_TEST_GAGGLE_H
#define GOOSE_TEST_GAGGLE_H

#include "e2e.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>

#include "run/run.h"
#include "gaggle/gaggle.h"

static target tgt;
static char dir[128];

static const char *program = "tests/gaggle-loadtest"; /* a test may point it elsewhere */

/* A gaggle key file `name` in the test's dir, mode 0600. */
static inline void write_key(const char *name, const char *key)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f, "%s\n", key);
    fclose(f);
    chmod(path, 0600);
}

/* How many lines of a process's log (dir/name.log) say text. */
static inline int log_count(const char *name, const char *text)
{
    char path[256], line[4096];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* A free port for the Manager, and its report's path in the test's dir. */
static inline void manager_spot(char port[8], char report[256])
{
    snprintf(port, 8, "%d", free_port());
    snprintf(report, 256, "%s/report.json", dir);
}

/* Starts `program` with the arguments (LOADTEST_VARIANT=variant unless
 * NULL); its output goes to dir/name.log. */
static inline pid_t spawn_argv(const char *name, const char *variant,
                        const char *const *args, size_t n)
{
    char *argv[48], prog[256], log[256];
    snprintf(prog, sizeof prog, "%s/%s", build_dir(), program);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    argv[0] = prog;
    for (size_t i = 0; i < n && i < 46; i++)
        argv[i + 1] = (char *)args[i];
    argv[n < 46 ? n + 1 : 47] = NULL;
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        if (variant)
            setenv("LOADTEST_VARIANT", variant, 1);
        execv(prog, argv);
        _exit(127);
    }
    return pid;
}

static inline pid_t spawn(const char *name, const char *variant, ...)
{
    const char *args[46];
    size_t n = 0;
    va_list ap;
    va_start(ap, variant);
    for (const char *s; (s = va_arg(ap, const char *)) && n < 46;)
        args[n++] = s;
    va_end(ap);
    return spawn_argv(name, variant, args, n);
}

/* Exit status, or -1 after killing it when it outlives the deadline. */
static inline int wait_exit(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static inline int log_has(const char *name, const char *text)
{
    char path[256], buf[65536];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

/* Waits until a process's log says text; 1 if it did within seconds. */
static inline int wait_log(const char *name, const char *text, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (log_has(name, text))
            return 1;
        usleep(50000);
    }
    return 0;
}

static inline json_t *load_report(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        TEST_FAIL("cannot read %s: %s", path, err.text);
    return j;
}

static inline void setup(void)
{
    snprintf(dir, sizeof dir, "%s/gaggle-%d", build_dir(), (int)getpid());
    mkdir(dir, 0755);
    target_start(&tgt);
}

/* A test that got here passed: its logs go (a failed one keeps them). */
static inline void teardown(void)
{
    target_stop(&tgt);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static inline long long workers_sum(json_t *report, const char *state)
{
    long long n = 0, requests = 0;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(report, "workers"), i, w) {
        n += state && !strcmp(json_string_value(json_object_get(w, "state")), state);
        requests += jint(w, "requests");
    }
    return state ? n : requests;
}

#define PORT_ARGS(port) "--manager-bind-host", "127.0.0.1", "--manager-bind-port", port

/* A connection to 127.0.0.1:port, retried for 5 s while it comes up. */
static inline int dial(const char *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 100; i++) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        usleep(50000);
    }
    TEST_FAIL("cannot reach 127.0.0.1:%s", port);
}

/* Sends bytes; returns 1 when the manager then closes the connection. */
static inline int closed_after(const char *port, const void *bytes, size_t len)
{
    int fd = dial(port);
    ssize_t n = write(fd, bytes, len);
    (void)n;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0)
        ;
    close(fd);
    return got == 0;
}

#endif
