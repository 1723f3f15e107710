/* libgoose version: the one place the version lives (the Makefile reads it). */
#ifndef GOOSE_VERSION_H
#define GOOSE_VERSION_H

#define GOOSE_VERSION_MAJOR 0
#define GOOSE_VERSION_MINOR 4
#define GOOSE_VERSION_PATCH 0
#define GOOSE_VERSION_STRING "0.4.0"

/* 0xXXYYZZ: major, minor, patch, one byte each. */
#define GOOSE_VERSION_NUM                                                      \
    ((GOOSE_VERSION_MAJOR << 16) | (GOOSE_VERSION_MINOR << 8) |                \
     GOOSE_VERSION_PATCH)

#define GOOSE_AT_LEAST_VERSION(x, y, z)                                        \
    (GOOSE_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

#endif
