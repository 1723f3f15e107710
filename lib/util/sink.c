#include "util/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/io.h"
#include "util/sigpipe.h"

typedef struct chunk {
    struct chunk *next;
    size_t len;
    char *data;
} chunk;

struct goose_sink {
    int fd;
    int error;          /* errno of the first failed write */
    int closing;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t more;
    chunk *head, *tail;
};

static chunk *take_all(goose_sink *s)
{
    chunk *c = s->head;
    s->head = s->tail = NULL;
    return c;
}

static void *writer_main(void *arg)
{
    goose_sink *s = arg;
    sigset_t mask;
    goose__sigpipe_block(&mask); /* a log that is a pipe whose reader left */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->head && !s->closing)
            pthread_cond_wait(&s->more, &s->lock);
        chunk *c = take_all(s);
        int closing = s->closing;
        pthread_mutex_unlock(&s->lock);
        while (c) {
            chunk *next = c->next;
            if (!s->error && goose__write_all(s->fd, c->data, c->len) < 0)
                s->error = errno;
            free(c->data);
            free(c);
            c = next;
        }
        pthread_mutex_lock(&s->lock);
        if (closing && !s->head)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

goose_sink *goose__sink_open(const char *path, const char *header)
{
    goose_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0)
        goto fail;
    if (header && goose__write_all(s->fd, header, strlen(header)) < 0)
        goto fail_close;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->more, NULL);
    int rc = pthread_create(&s->thread, NULL, writer_main, s);
    if (rc == 0)
        return s;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->more);
    errno = rc;
fail_close:
    close(s->fd);
fail:;
    int err = errno;
    free(s);
    errno = err;
    return NULL;
}

int goose__sink_submit(goose_sink *s, goose_buf *b)
{
    if (!b->len)
        return 0;
    chunk *c = malloc(sizeof *c);
    if (!c)
        return -1;
    c->next = NULL;
    c->len = b->len;
    c->data = goose__buf_steal(b);
    pthread_mutex_lock(&s->lock);
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    pthread_cond_signal(&s->more);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int goose__sink_close(goose_sink *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    pthread_cond_signal(&s->more);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    int err = s->error;
    if (close(s->fd) < 0 && !err)
        err = errno;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->more);
    free(s);
    errno = err;
    return err ? -1 : 0;
}
