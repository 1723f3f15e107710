/* A level over time (users, or iterations started per second): steps that
 * ramp linearly from one level to the next, the last level held after the
 * last step.  Pure data.  Times are µs since the start of the run. */
#ifndef GOOSE_ENGINE_SHAPE_H
#define GOOSE_ENGINE_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#define GOOSE_NEVER UINT64_MAX

typedef struct goose_step {
    uint64_t start_us;
    uint64_t end_us;     /* == start_us: a jump */
    double from;
    double to;
} goose_step;

typedef struct goose_shape {
    goose_step *steps;   /* in time order, each starting where the last ended */
    size_t n, cap;
} goose_shape;

/* Appends a ramp to `to` lasting duration_us after the last step (from
 * the last level, 0 for the first).  -1 when out of memory. */
int goose__shape_add(goose_shape *s, double to, uint64_t duration_us);
/* Ends the shape at `now`: later steps are dropped, the step under way
 * stops where it got, and a hold fills any gap up to now. */
int goose__shape_cut(goose_shape *s, uint64_t now);
/* From `now` on: ramp from the level at `now` to `to` at `per_s` a second
 * (0: at once), then hold.  Later steps are dropped. */
int goose__shape_retarget(goose_shape *s, uint64_t now, double to, double per_s);
int goose__shape_copy(goose_shape *dst, const goose_shape *src);
/* The shape as seen from `now` on: what came before is one step at the
 * level of now, so a shape sent to Workers does not grow with history. */
int goose__shape_since(goose_shape *dst, const goose_shape *src, uint64_t now);
void goose__shape_free(goose_shape *s);

double goose__shape_level(const goose_shape *s, uint64_t t);
double goose__shape_max(const goose_shape *s);
/* When the last step ends (0 for no steps). */
uint64_t goose__shape_end(const goose_shape *s);
/* The first time >= now when the level is above x, or at most x;
 * GOOSE_NEVER when it never is. */
uint64_t goose__shape_when_above(const goose_shape *s, uint64_t now, double x);
uint64_t goose__shape_when_at_most(const goose_shape *s, uint64_t now, double x);
/* The first time the area under the level (level-seconds from 0: arrivals
 * when the level is a rate) reaches `area`, or GOOSE_NEVER. */
uint64_t goose__shape_when_area(const goose_shape *s, double area);

#endif
