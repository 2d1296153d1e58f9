#include "auth/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 1024
#define SWEEP_AT 256 /* entries per stripe before idle ones are dropped */

typedef struct bucket {
    struct bucket *next;
    double tokens;
    long long updated_ms;
    char key[];
} bucket;

typedef struct {
    pthread_mutex_t lock;
    bucket *head;
    int count;
} stripe;

struct rn_ratelimit {
    stripe stripes[STRIPES];
};

static unsigned long hash(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

rn_ratelimit *rn_ratelimit_new(void)
{
    rn_ratelimit *rl = calloc(1, sizeof *rl);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rl->stripes[i].lock, NULL);
    return rl;
}

void rn_ratelimit_free(rn_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < STRIPES; i++) {
        for (bucket *b = rl->stripes[i].head, *next; b; b = next) {
            next = b->next;
            free(b);
        }
        pthread_mutex_destroy(&rl->stripes[i].lock);
    }
    free(rl);
}

static void refill(bucket *b, double rate, double burst, long long now_ms)
{
    double elapsed = (double)(now_ms - b->updated_ms) / 1000.0;
    if (elapsed > 0)
        b->tokens = fmin(burst, b->tokens + elapsed * rate);
    b->updated_ms = now_ms;
}

/* Drops buckets that have refilled completely: they carry no state. Buckets
 * with their own (per-key) rate are judged by the caller's rate, so one may be
 * dropped a little early; it then restarts full, which only errs lenient. */
static void sweep(stripe *s, double rate, double burst, long long now_ms)
{
    bucket **link = &s->head;
    while (*link) {
        bucket *b = *link;
        double tokens = fmin(burst, b->tokens + (double)(now_ms - b->updated_ms) / 1000.0 * rate);
        if (tokens >= burst) {
            *link = b->next;
            free(b);
            s->count--;
        } else {
            link = &b->next;
        }
    }
}

static bucket *find(stripe *s, const char *key, double rate, double burst, long long now_ms)
{
    for (bucket *b = s->head; b; b = b->next)
        if (strcmp(b->key, key) == 0)
            return b;
    if (s->count >= SWEEP_AT)
        sweep(s, rate, burst, now_ms);
    size_t len = strlen(key) + 1;
    bucket *b = malloc(sizeof *b + len);
    memcpy(b->key, key, len);
    b->tokens = burst;
    b->updated_ms = now_ms;
    b->next = s->head;
    s->head = b;
    s->count++;
    return b;
}

/* window_ms 0: a token bucket refilling at rate/s. window_ms > 0: a fixed
 * window of `burst` tokens that refills all at once when it ends. */
static bool use(rn_ratelimit *rl, const char *key, double rate, double burst, long long now_ms,
                rn_rate_state *st, bool take, long long window_ms)
{
    stripe *s = &rl->stripes[hash(key) % STRIPES];
    pthread_mutex_lock(&s->lock);
    bucket *b = find(s, key, rate, burst, now_ms);
    if (window_ms > 0 && now_ms - b->updated_ms >= window_ms) {
        b->tokens = burst;
        b->updated_ms = now_ms;
    } else if (window_ms == 0) {
        refill(b, rate, burst, now_ms);
    }
    bool ok = b->tokens >= 1.0;
    if (ok && take)
        b->tokens -= 1.0;
    if (st) {
        st->limit = (long long)burst;
        st->remaining = (long long)floor(b->tokens);
        st->reset_s = (long long)ceil((burst - b->tokens) / rate);
        long long wait = window_ms > 0 ? (b->updated_ms + window_ms - now_ms + 999) / 1000
                                       : (long long)ceil((1.0 - b->tokens) / rate);
        st->retry_after = b->tokens >= 1.0 ? 0 : wait < 1 ? 1 : wait;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

bool rn_ratelimit_take(rn_ratelimit *rl, const char *key, double rate, double burst,
                       long long now_ms, rn_rate_state *st)
{
    return use(rl, key, rate, burst, now_ms, st, true, 0);
}

bool rn_ratelimit_peek(rn_ratelimit *rl, const char *key, double rate, double burst,
                       long long now_ms, rn_rate_state *st)
{
    return use(rl, key, rate, burst, now_ms, st, false, 0);
}

bool rn_ratelimit_window_take(rn_ratelimit *rl, const char *key, long long limit,
                              long long window_ms, long long now_ms, rn_rate_state *st)
{
    double rate = (double)limit * 1000.0 / (double)window_ms;
    return use(rl, key, rate, (double)limit, now_ms, st, true, window_ms);
}

bool rn_ratelimit_window_peek(rn_ratelimit *rl, const char *key, long long limit,
                              long long window_ms, long long now_ms, rn_rate_state *st)
{
    double rate = (double)limit * 1000.0 / (double)window_ms;
    return use(rl, key, rate, (double)limit, now_ms, st, false, window_ms);
}
