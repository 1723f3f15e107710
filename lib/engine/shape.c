/* Levels over time: the users of a test plan, or the iterations started
 * per second of an arrival plan.  Each question the engine asks ("when
 * does the level pass user i?", "when is arrival k due?") has an exact
 * answer from the steps, so timers fire at the right moment instead of
 * polling. */
#include "engine/shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int push(goose_shape *s, goose_step step)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        goose_step *p = realloc(s->steps, cap * sizeof *p);
        if (!p)
            return -1;
        s->steps = p;
        s->cap = cap;
    }
    s->steps[s->n++] = step;
    return 0;
}

static double last_level(const goose_shape *s)
{
    return s->n ? s->steps[s->n - 1].to : 0;
}

uint64_t goose__shape_end(const goose_shape *s)
{
    return s->n ? s->steps[s->n - 1].end_us : 0;
}

int goose__shape_add(goose_shape *s, double to, uint64_t duration_us)
{
    uint64_t start = goose__shape_end(s);
    goose_step step = {start, start + duration_us, last_level(s), to};
    return push(s, step);
}

/* The level inside a step, start <= t <= end. */
static double step_level(const goose_step *st, uint64_t t)
{
    if (t >= st->end_us)
        return st->to;
    double f = (double)(t - st->start_us) / (double)(st->end_us - st->start_us);
    return st->from + (st->to - st->from) * f;
}

double goose__shape_level(const goose_shape *s, uint64_t t)
{
    double level = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (t < s->steps[i].start_us)
            break;
        level = step_level(&s->steps[i], t);
        if (t < s->steps[i].end_us)
            break;
    }
    return level;
}

double goose__shape_max(const goose_shape *s)
{
    double m = 0;
    for (size_t i = 0; i < s->n; i++)
        m = fmax(m, fmax(s->steps[i].from, s->steps[i].to));
    return m;
}

int goose__shape_cut(goose_shape *s, uint64_t now)
{
    double level = goose__shape_level(s, now);
    while (s->n && s->steps[s->n - 1].start_us >= now)
        s->n--;
    if (s->n && s->steps[s->n - 1].end_us > now) {
        s->steps[s->n - 1].to = level;
        s->steps[s->n - 1].end_us = now;
    }
    uint64_t end = goose__shape_end(s);
    if (end < now && goose__shape_add(s, level, now - end) < 0)
        return -1;
    if (!s->n && goose__shape_add(s, level, now) < 0)
        return -1;
    return 0;
}

int goose__shape_retarget(goose_shape *s, uint64_t now, double to, double per_s)
{
    double level = goose__shape_level(s, now);
    if (goose__shape_cut(s, now) < 0)
        return -1;
    double ramp_s = per_s > 0 ? fabs(to - level) / per_s : 0;
    return goose__shape_add(s, to, (uint64_t)llround(ramp_s * 1e6));
}

int goose__shape_copy(goose_shape *dst, const goose_shape *src)
{
    goose_shape copy = {0};
    for (size_t i = 0; i < src->n; i++)
        if (push(&copy, src->steps[i]) < 0) {
            goose__shape_free(&copy);
            return -1;
        }
    goose__shape_free(dst);
    *dst = copy;
    return 0;
}

int goose__shape_since(goose_shape *dst, const goose_shape *src, uint64_t now)
{
    goose_shape c = {0};
    double level = goose__shape_level(src, now);
    int rc = goose__shape_add(&c, level, 0) | goose__shape_add(&c, level, now);
    for (size_t i = 0; rc == 0 && i < src->n; i++) {
        const goose_step *st = &src->steps[i];
        if (st->end_us > now) /* a step under way goes on from where it is */
            rc = goose__shape_add(&c, st->to, st->end_us - (st->start_us > now ? st->start_us : now));
    }
    if (rc == 0)
        rc = goose__shape_copy(dst, &c);
    goose__shape_free(&c);
    return rc;
}

void goose__shape_free(goose_shape *s)
{
    free(s->steps);
    memset(s, 0, sizeof *s);
}

/* The first t in [a, end] of a step where the level crosses x going the
 * way `rising` says, given that it had not at a. */
static uint64_t crossing(const goose_step *st, uint64_t a, double x, int rising)
{
    double f = (x - st->from) / (st->to - st->from);
    double tc = (double)st->start_us + f * (double)(st->end_us - st->start_us);
    uint64_t t = rising ? (uint64_t)floor(tc) + 1 : (uint64_t)ceil(tc);
    if (t < a)
        t = a;
    return t > st->end_us ? st->end_us : t;
}

static uint64_t when(const goose_shape *s, uint64_t now, double x, int above)
{
    for (size_t i = 0; i < s->n; i++) {
        const goose_step *st = &s->steps[i];
        if (st->end_us < now)
            continue;
        uint64_t a = st->start_us > now ? st->start_us : now;
        double va = step_level(st, a);
        if (above ? va > x : va <= x)
            return a;
        if (above ? st->to > x : st->to <= x)
            return crossing(st, a, x, above);
    }
    double held = last_level(s);
    return (above ? held > x : held <= x) && goose__shape_end(s) <= now ? now : GOOSE_NEVER;
}

uint64_t goose__shape_when_above(const goose_shape *s, uint64_t now, double x)
{
    return when(s, now, x, 1);
}

uint64_t goose__shape_when_at_most(const goose_shape *s, uint64_t now, double x)
{
    return when(s, now, x, 0);
}

/* Level-seconds under one step from its start to t (start <= t). */
static double step_area(const goose_step *st, uint64_t t)
{
    uint64_t until = t < st->end_us ? t : st->end_us;
    return (st->from + step_level(st, until)) / 2 * (double)(until - st->start_us) / 1e6;
}

/* How far into a step (µs) the area `rest` (level-seconds) is reached:
 * the root of from*x + k*x*x/2 = rest, written to stay exact as k -> 0. */
static double into_step(const goose_step *st, double rest)
{
    double dur = (double)(st->end_us - st->start_us);
    double k = (st->to - st->from) / dur;
    double r = rest * 1e6;
    double disc = st->from * st->from + 2 * k * r;
    double denom = st->from + sqrt(disc > 0 ? disc : 0);
    return denom > 0 ? 2 * r / denom : dur;
}

uint64_t goose__shape_when_area(const goose_shape *s, double area)
{
    if (area <= 0) /* the first arrival: once the rate is above 0 */
        return goose__shape_when_above(s, 0, 0);
    double done = 0;
    for (size_t i = 0; i < s->n; i++) {
        const goose_step *st = &s->steps[i];
        double full = step_area(st, st->end_us);
        if (done + full >= area && st->end_us > st->start_us)
            return st->start_us + (uint64_t)ceil(into_step(st, area - done));
        done += full;
    }
    double held = last_level(s);
    if (held <= 0)
        return GOOSE_NEVER;
    return goose__shape_end(s) + (uint64_t)ceil((area - done) / held * 1e6);
}
