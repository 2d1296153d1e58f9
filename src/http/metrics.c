#include "http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

#define MAX_ROUTES 128
#define STATUS_MIN 100
#define STATUS_SPAN 500

static const long long BUCKETS_MS[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
#define NBUCKETS (sizeof BUCKETS_MS / sizeof *BUCKETS_MS)

/* Slot 0 is "unmatched", slot i+1 is route i. */
static atomic_llong requests[MAX_ROUTES + 1][STATUS_SPAN];
static atomic_llong latency_buckets[NBUCKETS + 1];
static atomic_llong latency_sum_ms, latency_count;

static const char *AUTH_CODES[] = {"SERVER_API_KEY_MISSING", "SERVER_API_KEY_INVALID",
                                   "SERVER_API_SCOPE_DENIED", "SERVER_API_RATE_LIMITED",
                                   "SDK_TOKEN_MISSING", "SDK_TOKEN_INVALID",
                                   "SDK_TOKEN_EXPIRED", "SDK_SCOPE_DENIED",
                                   "SDK_CONTEXT_TOKEN_INVALID"};
#define NAUTH (sizeof AUTH_CODES / sizeof *AUTH_CODES)
static atomic_llong auth_failures[NAUTH];
static atomic_llong deliveries_ok, deliveries_failed;

void rn_metrics_observe(int route_index, int status, long long duration_ms)
{
    int slot = route_index + 1;
    if (slot < 0 || slot > MAX_ROUTES || status < STATUS_MIN || status >= STATUS_MIN + STATUS_SPAN)
        return;
    atomic_fetch_add(&requests[slot][status - STATUS_MIN], 1);
    size_t b = 0;
    while (b < NBUCKETS && duration_ms > BUCKETS_MS[b])
        b++;
    atomic_fetch_add(&latency_buckets[b], 1);
    atomic_fetch_add(&latency_sum_ms, duration_ms);
    atomic_fetch_add(&latency_count, 1);
}

void rn_metrics_auth_failure(const char *code)
{
    for (size_t i = 0; i < NAUTH; i++)
        if (strcmp(AUTH_CODES[i], code) == 0)
            atomic_fetch_add(&auth_failures[i], 1);
}

void rn_metrics_delivery(const char *outcome)
{
    atomic_fetch_add(strcmp(outcome, "succeeded") == 0 ? &deliveries_ok : &deliveries_failed, 1);
}

char *rn_metrics_render(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    fputs("# HELP ringnity_http_requests_total HTTP requests by route and status.\n"
          "# TYPE ringnity_http_requests_total counter\n", f);
    for (int slot = 0; slot <= MAX_ROUTES && slot <= RN_ROUTE_COUNT; slot++) {
        const char *method = slot ? RN_ROUTES[slot - 1].method : "";
        const char *route = slot ? RN_ROUTES[slot - 1].pattern : "unmatched";
        for (int s = 0; s < STATUS_SPAN; s++) {
            long long n = atomic_load(&requests[slot][s]);
            if (n)
                fprintf(f, "ringnity_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"}"
                           " %lld\n", method, route, s + STATUS_MIN, n);
        }
    }
    fputs("# HELP ringnity_http_request_duration_seconds Request latency.\n"
          "# TYPE ringnity_http_request_duration_seconds histogram\n", f);
    long long cumulative = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
        cumulative += atomic_load(&latency_buckets[b]);
        if (b < NBUCKETS)
            fprintf(f, "ringnity_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n",
                    (double)BUCKETS_MS[b] / 1000.0, cumulative);
        else
            fprintf(f, "ringnity_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n",
                    cumulative);
    }
    fprintf(f, "ringnity_http_request_duration_seconds_sum %g\n",
            (double)atomic_load(&latency_sum_ms) / 1000.0);
    fprintf(f, "ringnity_http_request_duration_seconds_count %lld\n", atomic_load(&latency_count));
    fputs("# HELP ringnity_auth_failures_total Refused credentials by error code.\n"
          "# TYPE ringnity_auth_failures_total counter\n", f);
    for (size_t i = 0; i < NAUTH; i++)
        fprintf(f, "ringnity_auth_failures_total{code=\"%s\"} %lld\n", AUTH_CODES[i],
                atomic_load(&auth_failures[i]));
    fputs("# HELP ringnity_webhook_deliveries_total Webhook delivery attempts by outcome.\n"
          "# TYPE ringnity_webhook_deliveries_total counter\n", f);
    fprintf(f, "ringnity_webhook_deliveries_total{outcome=\"succeeded\"} %lld\n",
            atomic_load(&deliveries_ok));
    fprintf(f, "ringnity_webhook_deliveries_total{outcome=\"failed\"} %lld\n",
            atomic_load(&deliveries_failed));
    fclose(f);
    return buf;
}
