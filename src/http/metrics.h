/*
 * metrics.h — process counters rendered as Prometheus text at /metrics:
 * requests by route and status, a latency histogram, auth failures by code.
 * Lock-free (atomics); safe from every worker thread.
 */
#ifndef RN_HTTP_METRICS_H
#define RN_HTTP_METRICS_H

#include <stddef.h>

/* route_index -1 means "unmatched". */
void rn_metrics_observe(int route_index, int status, long long duration_ms);
void rn_metrics_auth_failure(const char *code);
/* Counts one outcome of a webhook delivery attempt ("succeeded"/"failed"). */
void rn_metrics_delivery(const char *outcome);
/* Renders the exposition text; caller frees. */
char *rn_metrics_render(size_t *len);

#endif
