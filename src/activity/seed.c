/*
 * seed.c — `demo seed` history, through the activity API.
 *
 * Day by day (the tenant's local days): first the agents' presence for the
 * day, then the day's conversations in arrival order, each played out whole
 * (messages, maybe a call, closing, maybe a ticket resolved later). Every
 * instant is checked against `now`; a script stops where the present is.
 * Units of work hold `batch` conversations, so the rollups of thousands of
 * operations are written with a few dozen upserts.
 */
#include "activity/seed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/activity.h"
#include "activity/internal.h"
#include "core/util.h"

#define SEC 1000LL
#define MINUTE (60 * SEC)
#define HOUR_MS (60 * MINUTE)
#define DEFAULT_BATCH 2000

/* Relative arrival rate per local hour: working-hour waves, quiet nights. */
static const double HOUR_WEIGHT[24] = {0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.20, 0.45,
                                       0.80, 1.10, 1.30, 1.30, 1.00, 1.10, 1.25, 1.20,
                                       1.05, 0.85, 0.60, 0.45, 0.35, 0.25, 0.15, 0.10};

static const char *const VISITOR_LINES[] = {
    "Hi, I need help with my account.",  "My card payment did not go through.",
    "How do I change my phone number?",  "Is the branch open on Saturday?",
    "I was charged twice for one order.", "Can you check the status of my transfer?",
    "Thanks, that worked.",              "Could you explain the fee on my statement?",
    "I still cannot log in.",            "Great, thank you for the quick answer!",
};
static const char *const AGENT_LINES[] = {
    "Hello! Happy to help, could you share your customer number?",
    "Thanks, let me check that for you.",
    "I can see the payment; it is pending and should clear within an hour.",
    "I have reset the login for you, please try again now.",
    "The branch is open 09:00-14:00 on Saturdays.",
    "I have refunded the duplicate charge.",
    "Is there anything else I can help with?",
    "You are welcome, have a nice day!",
};
static const char *const NAMES[] = {"Ayu",  "Budi",  "Citra", "Dewi",  "Eko",  "Fitri", "Gita",
                                    "Hadi", "Indah", "Joko",  "Kartika", "Lina", "Maya", "Nur"};
static const char *const TICKET_SUBJECTS[] = {
    "Duplicate charge refund", "Card replacement", "Login locked", "Statement correction",
    "Transfer investigation",
};

#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

/* ---- randomness (splitmix64: small, fast, reproducible) ------------------- */

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* A whole number in [lo, hi]. */
static long long rng_range(rng *r, long long lo, long long hi)
{
    return lo + (long long)(rng_unit(r) * (double)(hi - lo + 1));
}

/* Exponential with the given mean, capped. */
static long long rng_exp(rng *r, double mean, long long cap)
{
    double v = -log(1.0 - rng_unit(r)) * mean;
    return v > (double)cap ? cap : (long long)v;
}

/* ---- the seeding run ----------------------------------------------------- */

typedef struct {
    long long start, lunch, back, end; /* UTC ms; start 0 = day off */
} shift;

typedef struct {
    rn_db *db;
    const rn_seed_opts *o;
    const rn_tz *tz;
    rng r;
    long long now;
    rn_act *unit;
    long in_unit, done;
    rn_seed_stats *stats;
    shift *shifts; /* today's shift per agent */
    long next_agent;
} seeder;

static int unit_open(seeder *s)
{
    if (s->unit)
        return 0;
    s->unit = rn_act_begin(s->db, s->o->tenant_id, s->o->timezone);
    if (!s->unit)
        return -1;
    rn_act_set_events(s->unit, s->o->events);
    rn_act_set_new_visitors(s->unit, true); /* every visitor id is made up fresh */
    s->in_unit = 0;
    return 0;
}

static int unit_close(seeder *s)
{
    if (!s->unit)
        return 0;
    int rc = rn_act_commit(s->unit);
    s->unit = NULL;
    if (rc == 0 && s->o->progress)
        s->o->progress(s->o->progress_ctx, s->done, s->o->conversations);
    return rc;
}

static long long local_time(const seeder *s, long long day, long long seconds)
{
    return rn_tz_local_to_utc(s->tz, day * 86400 + seconds) * SEC;
}

/* ---- presence ---------------------------------------------------------------- */

static void plan_shift(seeder *s, long long day, int agent, shift *out)
{
    memset(out, 0, sizeof *out);
    int weekday = rn_day_weekday(day);
    bool weekend = weekday == 0 || weekday == 6;
    if (weekend && (agent + day) % 2 != 0)
        return;
    long long begin = (agent % 2 == 0 ? 7 * 3600 + 45 * 60 : 11 * 3600 + 45 * 60) +
                      rng_range(&s->r, -20 * 60, 20 * 60);
    long long length = 8 * 3600 + 30 * 60 + rng_range(&s->r, -15 * 60, 15 * 60);
    out->start = local_time(s, day, begin);
    out->end = local_time(s, day, begin + length);
    out->lunch = local_time(s, day, begin + length / 2 - 20 * 60);
    out->back = out->lunch + rng_range(&s->r, 30, 50) * MINUTE;
}

static int presence(seeder *s, const char *agent, const char *status, long long at)
{
    if (at > s->now)
        return 0;
    int rc = rn_act_presence_set(s->unit, agent, status, at, NULL);
    if (rc == RN_ACT_INVALID) /* live presence newer than the history: keep it */
        return 0;
    if (rc == RN_ACT_OK)
        s->stats->presence_changes++;
    return rc == RN_ACT_OK ? 0 : -1;
}

static int seed_presence(seeder *s, long long day)
{
    for (int i = 0; i < s->o->nagents; i++) {
        shift *sh = &s->shifts[i];
        plan_shift(s, day, i, sh);
        if (!sh->start)
            continue;
        const char *agent = s->o->agent_ids[i];
        if (presence(s, agent, "online", sh->start) != 0 ||
            presence(s, agent, "away", sh->lunch) != 0 ||
            presence(s, agent, "online", sh->back) != 0 ||
            presence(s, agent, "offline", sh->end) != 0)
            return -1;
    }
    return 0;
}

/* An agent on shift at t (round robin among them), else any agent. */
static const char *pick_agent(seeder *s, long long t, bool *on_shift)
{
    int n = s->o->nagents;
    for (int k = 0; k < n; k++) {
        int i = (int)((s->next_agent + k) % n);
        const shift *sh = &s->shifts[i];
        if (sh->start && sh->start <= t && t < sh->end) {
            s->next_agent = i + 1;
            *on_shift = true;
            return s->o->agent_ids[i];
        }
    }
    *on_shift = false;
    return s->o->agent_ids[(s->next_agent++) % n];
}

/* ---- one conversation ----------------------------------------------------------- */

static const char *line(seeder *s, const char *const *lines, size_t n)
{
    return lines[rng_next(&s->r) % n];
}

static int ticket_for(seeder *s, const char *agent, const char *cnv, long long at)
{
    char tkt[ACT_ID_CAP];
    rn_ticket_fields open = {.subject = line(s, TICKET_SUBJECTS, COUNT_OF(TICKET_SUBJECTS)),
                             .priority = rng_unit(&s->r) < 0.2 ? "high" : "normal",
                             .conversation_id = cnv};
    if (at > s->now)
        return 0;
    if (rn_act_ticket_open(s->unit, agent, &open, at, tkt, NULL) != RN_ACT_OK)
        return -1;
    s->stats->tickets++;
    double fate = rng_unit(&s->r);
    long long later = at + rng_range(&s->r, 60, 72 * 60) * MINUTE;
    rn_ticket_fields change = {.status = fate < 0.72 ? "resolved" : "pending"};
    if (fate >= 0.85 || later > s->now)
        return 0;
    return rn_act_ticket_update(s->unit, tkt, &change, later, NULL) == RN_ACT_OK ? 0 : -1;
}

static int call_for(seeder *s, const char *agent, const char *cnv, long long *t)
{
    char call[ACT_ID_CAP];
    long long start = *t + rng_range(&s->r, 20, 120) * SEC;
    if (start > s->now)
        return 0;
    const char *direction = rng_unit(&s->r) < 0.5 ? "inbound" : "outbound";
    if (rn_act_call_start(s->unit, agent, cnv, direction, start, call, NULL) != RN_ACT_OK)
        return -1;
    s->stats->calls++;
    bool answered = rng_unit(&s->r) < 0.78;
    long long talk = answered ? rng_range(&s->r, 45, 900) : 0;
    long long end = start + rng_range(&s->r, 5, 25) * SEC + talk * SEC;
    if (end > s->now)
        return 0; /* still ringing or talking */
    *t = end;
    return rn_act_call_end(s->unit, call, answered, answered ? talk : -1, end, NULL) == RN_ACT_OK
               ? 0
               : -1;
}

/* Visitor and agent take turns after the first response; 4..16 messages. */
static int exchange(seeder *s, const char *visitor, const char *agent, const char *cnv,
                    long long *t)
{
    int total = (int)rng_range(&s->r, 4, 16);
    for (int i = 2; i < total; i++) {
        long long at = *t + rng_range(&s->r, 15, 240) * SEC;
        if (at > s->now)
            return 1;
        int rc = i % 2 == 0 ? rn_act_visitor_message(s->unit, visitor, NULL, cnv,
                                                     line(s, VISITOR_LINES,
                                                          COUNT_OF(VISITOR_LINES)),
                                                     at, NULL, NULL)
                            : rn_act_agent_message(s->unit, cnv, agent,
                                                   line(s, AGENT_LINES, COUNT_OF(AGENT_LINES)),
                                                   at, NULL);
        if (rc != RN_ACT_OK)
            return -1;
        s->stats->messages++;
        *t = at;
    }
    return 0;
}

static int conversation(seeder *s, long long t0)
{
    char visitor[ACT_ID_CAP], cnv[ACT_ID_CAP], name[32];
    act_id("vis", t0, visitor, sizeof visitor);
    snprintf(name, sizeof name, "%s %c.", line(s, NAMES, COUNT_OF(NAMES)),
             (char)('A' + rng_next(&s->r) % 26));
    if (rn_act_visitor_message(s->unit, visitor, name, NULL,
                               line(s, VISITOR_LINES, COUNT_OF(VISITOR_LINES)), t0, cnv,
                               NULL) != RN_ACT_OK)
        return -1;
    s->stats->conversations++;
    s->stats->messages++;
    if (rng_unit(&s->r) < 0.03)
        return 0; /* never answered */
    bool on_shift;
    const char *agent = pick_agent(s, t0, &on_shift);
    long long t = t0 + (on_shift ? 15 * SEC + rng_exp(&s->r, 100 * SEC, 20 * MINUTE)
                                 : rng_range(&s->r, 5, 45) * MINUTE);
    if (t > s->now)
        return 0;
    if (rn_act_agent_message(s->unit, cnv, agent, line(s, AGENT_LINES, COUNT_OF(AGENT_LINES)),
                             t, NULL) != RN_ACT_OK)
        return -1;
    s->stats->messages++;
    int rc = exchange(s, visitor, agent, cnv, &t);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (rng_unit(&s->r) < 0.18 && call_for(s, agent, cnv, &t) != 0)
        return -1;
    if (rng_unit(&s->r) >= 0.9)
        return 0; /* stays assigned */
    t += rng_range(&s->r, 1, 20) * MINUTE;
    if (t > s->now)
        return 0;
    if (rn_act_close(s->unit, cnv, agent, t, NULL) != RN_ACT_OK)
        return -1;
    return rng_unit(&s->r) < 0.09 ? ticket_for(s, agent, cnv, t + MINUTE) : 0;
}

/* ---- days ------------------------------------------------------------------------ */

static double day_weight(const seeder *s, long long day, long long today)
{
    int weekday = rn_day_weekday(day);
    double w = weekday == 6 ? 0.6 : weekday == 0 ? 0.45 : 1.0;
    if (day < today)
        return w;
    /* Today: only the hours already behind us. */
    long long start = rn_tz_day_start_ms(s->tz, day);
    double elapsed = 0, all = 0;
    for (int h = 0; h < 24; h++) {
        long long from = start + h * HOUR_MS;
        all += HOUR_WEIGHT[h];
        if (from + HOUR_MS <= s->now)
            elapsed += HOUR_WEIGHT[h];
        else if (from < s->now)
            elapsed += HOUR_WEIGHT[h] * (double)(s->now - from) / HOUR_MS;
    }
    return w * elapsed / all;
}

/* One arrival instant on `day`, before now. */
static long long arrival(seeder *s, long long day)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        double pick = rng_unit(&s->r) * 12.04, acc = 0; /* 12.04 = sum of HOUR_WEIGHT */
        int hour = 23;
        for (int h = 0; h < 24; h++) {
            acc += HOUR_WEIGHT[h];
            if (pick < acc) {
                hour = h;
                break;
            }
        }
        long long t = local_time(s, day, hour * 3600LL + rng_range(&s->r, 0, 3599)) +
                      rng_range(&s->r, 0, 999);
        if (t < s->now && rn_tz_local_day(s->tz, t) == day)
            return t;
    }
    return 0;
}

static int by_time(const void *x, const void *y)
{
    long long p = *(const long long *)x, q = *(const long long *)y;
    return p < q ? -1 : p > q;
}

static int seed_day(seeder *s, long long day, long count)
{
    if (unit_open(s) != 0 || seed_presence(s, day) != 0)
        return -1;
    long long *times = calloc((size_t)(count ? count : 1), sizeof *times);
    if (!times)
        return -1;
    long n = 0;
    for (long i = 0; i < count; i++) {
        long long t = arrival(s, day);
        if (t)
            times[n++] = t;
    }
    qsort(times, (size_t)n, sizeof *times, by_time);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        if (unit_open(s) != 0 || conversation(s, times[i]) != 0) {
            rc = -1;
            break;
        }
        s->done++;
        if (++s->in_unit >= (s->o->batch > 0 ? s->o->batch : DEFAULT_BATCH))
            rc = unit_close(s);
    }
    free(times);
    return rc;
}

int rn_activity_seed(rn_db *db, const rn_seed_opts *o, rn_seed_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    const rn_tz *tz = rn_tz_get(o->timezone);
    if (!tz || o->days < 1 || o->days > 366 || o->conversations < 0 || o->nagents < 1)
        return -1;
    seeder s = {.db = db, .o = o, .tz = tz, .r = {o->seed}, .stats = stats,
                .now = o->now_ms ? o->now_ms : rn_now_ms()};
    s.shifts = calloc((size_t)o->nagents, sizeof *s.shifts);
    if (!s.shifts)
        return -1;
    long long today = rn_tz_local_day(tz, s.now), first = today - o->days + 1;
    double total = 0, *weights = calloc((size_t)o->days, sizeof *weights);
    for (int i = 0; weights && i < o->days; i++)
        total += weights[i] = day_weight(&s, first + i, today);
    int rc = weights ? 0 : -1;
    double cumulative = 0;
    long assigned = 0;
    for (int i = 0; rc == 0 && i < o->days; i++) {
        /* Cumulative rounding: the days add up to exactly `conversations`. */
        cumulative += weights[i];
        long upto = total > 0 ? (long)llround((double)o->conversations * cumulative / total) : 0;
        rc = seed_day(&s, first + i, upto - assigned);
        assigned = upto;
    }
    if (rc == 0)
        rc = unit_close(&s);
    else if (s.unit)
        rn_act_rollback(s.unit);
    free(weights);
    free(s.shifts);
    return rc;
}
