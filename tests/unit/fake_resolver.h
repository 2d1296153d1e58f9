/*
 * fake_resolver.h — a resolver that stands in for DNS in the unit tests
 * (rn_netguard_set_resolver): it answers the numeric addresses a test
 * plans, fails with the EAI_* code a test plans, waits, or hangs until
 * the test lets it go. It records the calls and the last host and port.
 *
 * Header-only (static functions): every test file is its own executable.
 */
#ifndef RN_TEST_FAKE_RESOLVER_H
#define RN_TEST_FAKE_RESOLVER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "webhooks/netguard.h"

/* What the next lookups answer. */
typedef struct {
    int hang;              /* 1: block until fake_dns_open_and_drain() */
    int delay_ms;          /* answer after this long */
    int error;             /* returned instead of an answer when not 0 */
    int rotate;            /* 0: every lookup answers both addresses; 1: lookup n
                            * answers answer[n % 2] alone (NULL: answer[0]) */
    const char *answer[2]; /* numeric addresses, the second may be NULL */
} fake_dns_plan;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    fake_dns_plan plan;
    int calls;
    char host[64], port[8]; /* of the last lookup */
} fake_dns = {.lock = PTHREAD_MUTEX_INITIALIZER, .opened = PTHREAD_COND_INITIALIZER};

static int fake_dns_resolver(const char *host, const char *port, const struct addrinfo *hints,
                             struct addrinfo **res)
{
    pthread_mutex_lock(&fake_dns.lock);
    int n = fake_dns.calls++;
    snprintf(fake_dns.host, sizeof fake_dns.host, "%s", host);
    snprintf(fake_dns.port, sizeof fake_dns.port, "%s", port);
    while (fake_dns.plan.hang)
        pthread_cond_wait(&fake_dns.opened, &fake_dns.lock);
    fake_dns_plan plan = fake_dns.plan;
    pthread_mutex_unlock(&fake_dns.lock);
    if (plan.delay_ms > 0)
        usleep((useconds_t)plan.delay_ms * 1000);
    if (plan.error != 0)
        return plan.error;
    const char *answer[2] = {plan.answer[0], plan.answer[1]};
    if (plan.rotate) {
        answer[0] = plan.answer[n % 2] != NULL ? plan.answer[n % 2] : plan.answer[0];
        answer[1] = NULL;
    }
    struct addrinfo numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    *res = NULL;
    struct addrinfo **tail = res;
    for (int i = 0; i < 2 && answer[i] != NULL; i++) {
        /* glibc's freeaddrinfo frees node by node, so chained lists free as one */
        if (getaddrinfo(answer[i], port, &numeric, tail) != 0)
            return EAI_FAIL;
        while (*tail != NULL)
            tail = &(*tail)->ai_next;
    }
    return 0;
}

/* Plans the next lookups, clears the record and installs the fake. */
static void fake_dns_setup(fake_dns_plan plan)
{
    pthread_mutex_lock(&fake_dns.lock);
    fake_dns.plan = plan;
    fake_dns.calls = 0;
    fake_dns.host[0] = fake_dns.port[0] = '\0';
    pthread_mutex_unlock(&fake_dns.lock);
    rn_netguard_set_resolver(fake_dns_resolver);
}

/* inline: a suite that never counts the lookups must not warn of it unused */
static inline int fake_dns_calls(void)
{
    pthread_mutex_lock(&fake_dns.lock);
    int n = fake_dns.calls;
    pthread_mutex_unlock(&fake_dns.lock);
    return n;
}

/* Monotonic milliseconds, for bounding waits and timing lookups. */
static long test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Lets hung lookups return, waits until every lookup thread has finished
 * (and freed its job), and puts getaddrinfo back. */
static void fake_dns_open_and_drain(void)
{
    pthread_mutex_lock(&fake_dns.lock);
    fake_dns.plan.hang = 0;
    pthread_cond_broadcast(&fake_dns.opened);
    pthread_mutex_unlock(&fake_dns.lock);
    long deadline = test_now_ms() + 5000;
    while (rn_netguard_lookups_in_flight() > 0 && test_now_ms() < deadline)
        usleep(1000);
    assert_int_equal(rn_netguard_lookups_in_flight(), 0);
    rn_netguard_set_resolver(NULL);
}

#endif
