/* A file written by a thread of its own: engine threads hand it whole
 * buffers of lines, so no user ever waits on the disk, and nothing handed
 * over is ever dropped (the queue grows instead). */
#ifndef GOOSE_UTIL_SINK_H
#define GOOSE_UTIL_SINK_H

#include <stddef.h>

#include "util/buf.h"

typedef struct goose_sink goose_sink;

/* Creates (truncates) path and starts its writer; NULL with errno set. */
goose_sink *goose__sink_open(const char *path, const char *header);
/* Takes the buffer's bytes (the buffer is left empty); 0, or -1 when out
 * of memory (the bytes stay in the buffer, to be handed over again). */
int goose__sink_submit(goose_sink *s, goose_buf *b);
/* Writes everything handed over, stops the writer, closes the file;
 * 0, or -1 with errno of the first write that failed. */
int goose__sink_close(goose_sink *s);

#endif
