/*
 * redis.c - a load test of Redis with hiredis, driven through goose_wait_fd.
 *
 *   cc redis.c $(pkg-config --cflags --libs libgoose hiredis) -o redis
 *   REDIS_SERVER=127.0.0.1:6379 ./redis -u 20 -r 20 -t 30s
 *
 * Each user opens a non-blocking redisContext in on_start (waiting for the
 * connect with GOOSE_WRITE), then its loop runs SET, GET and INCR on keys
 * of its own, each recorded with goose_record as one request ("REDIS SET
 * session", ...): the report's counts are what Redis counts in INFO
 * commandstats.  hiredis only buffers: the user writes and reads when
 * goose_wait_fd says the socket is ready, so the thread never blocks.
 * When the test stops, a command already sent is counted as failed (Redis
 * ran it), and on_stop frees the context (and its socket).
 */
#include <goose.h>
#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TIMEOUT_MS 5000
#define STOPPED "the test stopped before the reply"

static char redis_host[64] = "127.0.0.1";
static int redis_port = 6379;

static void context_free(void *p)
{
    redisFree(p);
}

/* Connects without blocking; GOOSE_OK, 1, or GOOSE_ESTOPPING. */
static int connect_redis(goose_user *u)
{
    int64_t start = goose_now_us();
    redisContext *c = redisConnectNonBlock(redis_host, redis_port);
    if (!c)
        return goose_transaction_fail(u, "redisConnectNonBlock: out of memory"), 1;
    goose_user_set_data(u, c, context_free); /* freed (closed) when the user ends */
    const char *err = c->err ? c->errstr : NULL;
    if (!err) {
        int rc = goose_wait_fd(u, c->fd, GOOSE_WRITE, TIMEOUT_MS), so = 0;
        socklen_t len = sizeof so;
        if (rc == GOOSE_ESTOPPING)
            return rc;
        if (rc <= 0)
            err = rc == 0 ? "connect: timed out" : "connect: cannot wait";
        else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &len) < 0 || so)
            err = so ? strerror(so) : "connect: getsockopt failed";
    }
    goose_record(u, "REDIS", "connect", start, goose_now_us(), err);
    if (err)
        goose_user_set_data(u, NULL, NULL); /* the next transaction connects anew */
    return err ? 1 : GOOSE_OK;
}

/* Writes what hiredis buffered; NULL or why not. */
static const char *flush(goose_user *u, redisContext *c, int *stopped)
{
    for (int done = 0;;) {
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return c->errstr;
        if (done)
            return NULL;
        int rc = goose_wait_fd(u, c->fd, GOOSE_WRITE, TIMEOUT_MS);
        if (rc == GOOSE_ESTOPPING)
            return *stopped = 1, STOPPED;
        if (rc <= 0)
            return rc == 0 ? "write: timed out" : "write: cannot wait";
    }
}

/* The reply to the command sent; NULL or why not. */
static const char *await_reply(goose_user *u, redisContext *c, redisReply **reply, int *stopped)
{
    for (;;) {
        if (redisGetReplyFromReader(c, (void **)reply) != REDIS_OK)
            return c->errstr;
        if (*reply)
            return (*reply)->type == REDIS_REPLY_ERROR ? (*reply)->str : NULL;
        int rc = goose_wait_fd(u, c->fd, GOOSE_READ, TIMEOUT_MS);
        if (rc == GOOSE_ESTOPPING)
            return *stopped = 1, STOPPED;
        if (rc <= 0)
            return rc == 0 ? "no reply in time" : "read: cannot wait";
        if (redisBufferRead(c) != REDIS_OK)
            return c->errstr;
    }
}

/* One command, counted as "REDIS name". */
static int command(goose_user *u, const char *name, const char *fmt, const char *key,
                   const char *value)
{
    redisContext *c = goose_user_data(u);
    int rc = c ? GOOSE_OK : connect_redis(u);
    if (rc != GOOSE_OK)
        return rc;
    c = goose_user_data(u);
    int stopped = 0;
    redisReply *reply = NULL;
    int64_t start = goose_now_us();
    const char *err = redisAppendCommand(c, fmt, key, value) == REDIS_OK ? NULL : c->errstr;
    if (!err)
        err = flush(u, c, &stopped);
    if (!err)
        err = await_reply(u, c, &reply, &stopped);
    goose_record(u, "REDIS", name, start, goose_now_us(), err);
    freeReplyObject(reply);
    if (err && !reply) /* a late reply would answer the next command: anew */
        goose_user_set_data(u, NULL, NULL);
    return stopped ? GOOSE_ESTOPPING : err ? 1 : GOOSE_OK;
}

static int on_start(goose_user *u)
{
    return connect_redis(u);
}

static int set_session(goose_user *u)
{
    char key[32], value[32];
    snprintf(key, sizeof key, "session:%u", goose_user_index(u));
    snprintf(value, sizeof value, "token-%llu", (unsigned long long)goose_user_random(u));
    return command(u, "SET session", "SET %s %s", key, value);
}

static int get_session(goose_user *u)
{
    char key[32];
    snprintf(key, sizeof key, "session:%u", goose_user_index(u));
    return command(u, "GET session", "GET %s", key, NULL);
}

static int count_visit(goose_user *u)
{
    return command(u, "INCR visits", "INCR %s", "visits", NULL);
}

static int on_stop(goose_user *u)
{
    goose_user_set_data(u, NULL, NULL); /* redisFree: closes the socket */
    return GOOSE_OK;
}

/* REDIS_SERVER=ADDR:PORT, a loopback IPv4 address (default 127.0.0.1:6379). */
static int server_from_env(void)
{
    const char *env = getenv("REDIS_SERVER");
    if (!env || !*env)
        return 0;
    const char *colon = strrchr(env, ':');
    struct in_addr a;
    if (!colon || (size_t)(colon - env) >= sizeof redis_host ||
        sscanf(colon + 1, "%d", &redis_port) != 1 || redis_port <= 0 || redis_port > 65535)
        return -1;
    snprintf(redis_host, sizeof redis_host, "%.*s", (int)(colon - env), env);
    return inet_pton(AF_INET, redis_host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (server_from_env() < 0) {
        fprintf(stderr, "redis: REDIS_SERVER must be 127.x.x.x:PORT\n");
        return 2;
    }
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("RedisUser");
    goose_scenario_set_host(s, "http://127.0.0.1"); /* no HTTP here; a scenario needs one */
    goose_transaction_set_on_start(goose_scenario_add_transaction(s, "connect", on_start));
    goose_scenario_add_transaction(s, "set", set_session);
    goose_transaction_set_weight(goose_scenario_add_transaction(s, "get", get_session), 3);
    goose_scenario_add_transaction(s, "incr", count_visit);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "close", on_stop));
    goose_attack_add_scenario(attack, s);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
