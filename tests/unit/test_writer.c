/* Unit tests for http/writer: queued requests' writes share one commit;
 * when a part or the commit fails, the group is rolled back and each
 * request runs again alone, so each gets the answer it would have got
 * alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "http/writer.h"
#include "store/db.h"

/* A child whose parent is checked only at COMMIT: an orphan makes the
 * group's commit fail after every part has succeeded. */
static const char *const DDL = "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                               "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER"
                               " REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
                               "INSERT INTO parent (id) VALUES (1);";

typedef struct {
    char dir[64];
    rn_pool *pool;
    rn_writer *writer;
} fixture;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resumed_cond = PTHREAD_COND_INITIALIZER;
static int resumed;
static sem_t entered_first; /* the first request's work has started */
static sem_t release_first; /* and waits for this */

static void on_resume(rn_req *r)
{
    (void)r;
    pthread_mutex_lock(&lock);
    resumed++;
    pthread_cond_signal(&resumed_cond);
    pthread_mutex_unlock(&lock);
}

static void wait_resumed(int n)
{
    pthread_mutex_lock(&lock);
    while (resumed < n)
        pthread_cond_wait(&resumed_cond, &lock);
    pthread_mutex_unlock(&lock);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rn-test-writer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char url[128];
    snprintf(url, sizeof url, "sqlite:%s/w.db", f->dir);
    f->pool = rn_pool_open(url, 3, NULL, 0);
    assert_non_null(f->pool);
    rn_db *db = rn_pool_acquire(f->pool);
    assert_int_equal(rn_db_exec_script(db, DDL), 0);
    rn_pool_release(f->pool, db);
    f->writer = rn_writer_start(f->pool, NULL, NULL, on_resume);
    assert_non_null(f->writer);
    resumed = 0;
    sem_init(&entered_first, 0, 0);
    sem_init(&release_first, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rn_writer_stop(f->writer);
    rn_pool_close(f->pool);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    sem_destroy(&entered_first);
    sem_destroy(&release_first);
    free(f);
    return 0;
}

/* What a request's work does, chosen per request through its argument. */
typedef struct {
    long long child;  /* id to insert */
    long long parent; /* its parent (2 has none) */
    bool hold;        /* wait for release_first before writing */
} work;

static void write_child(rn_req *r, void *arg)
{
    work *w = arg;
    if (w->hold) {
        sem_post(&entered_first);
        sem_wait(&release_first);
    }
    rn_db *db = rn_req_db(r);
    if (rn_db_begin(db) != 0 ||
        rn_db_exec(db, "INSERT INTO child (id, parent) VALUES ($1, $2)",
                   RN_PARAMS(RN_I(w->child), RN_I(w->parent))) != 1) {
        rn_db_rollback(db);
        rn_reply_error(r, RN_SERVER_CONTACT_CONFLICT, NULL, NULL);
        return;
    }
    if (rn_db_commit(db) != 0) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    rn_reply_empty(r, 201);
}

static rn_req *request(work *w)
{
    rn_req *r = calloc(1, sizeof *r);
    snprintf(r->request_id, sizeof r->request_id, "req_%lld", w->child);
    r->write_fn = write_child;
    r->write_arg = w;
    r->write_state = RN_WRITE_QUEUED;
    return r;
}

static void free_request(rn_req *r)
{
    free(r->reply);
    free(r);
}

static long long children(fixture *f)
{
    rn_db *db = rn_pool_acquire(f->pool);
    rn_rows *rows = rn_db_query(db, "SELECT COUNT(*) FROM child", RN_NOPARAMS);
    long long n = rn_rows_int(rows, 0, 0, -1);
    rn_rows_free(rows);
    rn_pool_release(f->pool, db);
    return n;
}

/* r0's work holds the writer until the others are queued, so r0 is a group
 * of its own and the others are one group. */
static void run_held_group(fixture *f, rn_req **reqs, int n)
{
    rn_writer_push(f->writer, reqs[0]);
    sem_wait(&entered_first);
    for (int i = 1; i < n; i++)
        rn_writer_push(f->writer, reqs[i]);
    sem_post(&release_first);
    wait_resumed(n);
}

static void a_failed_part_answers_alone(void **state)
{
    fixture *f = *state;
    work w[] = {{10, 1, true}, {11, 1, false}, {10, 1, false}, {12, 1, false}};
    rn_req *reqs[4];
    for (int i = 0; i < 4; i++)
        reqs[i] = request(&w[i]);
    run_held_group(f, reqs, 4);
    assert_int_equal(reqs[0]->status, 201);
    assert_int_equal(reqs[1]->status, 201);
    assert_int_equal(reqs[2]->status, 409); /* id 10 again: its own part failed */
    assert_non_null(strstr(reqs[2]->reply, "\"SERVER_CONTACT_CONFLICT\""));
    assert_int_equal(reqs[3]->status, 201);
    assert_int_equal(children(f), 3);
    for (int i = 0; i < 4; i++) {
        assert_null(reqs[i]->db); /* the writer's connection is not left behind */
        free_request(reqs[i]);
    }
}

static void a_failed_commit_hurts_no_one_else(void **state)
{
    fixture *f = *state;
    /* r2's orphan passes its part (the check is deferred) and fails COMMIT. */
    work w[] = {{20, 1, true}, {21, 1, false}, {22, 2, false}, {23, 1, false}};
    rn_req *reqs[4];
    for (int i = 0; i < 4; i++)
        reqs[i] = request(&w[i]);
    run_held_group(f, reqs, 4);
    assert_int_equal(reqs[0]->status, 201);
    assert_int_equal(reqs[1]->status, 201);
    assert_int_equal(reqs[2]->status, 500); /* its own commit failed, alone */
    assert_non_null(strstr(reqs[2]->reply, "\"SERVER_INTERNAL_ERROR\""));
    assert_non_null(strstr(reqs[2]->reply, "\"requestId\":\"req_22\""));
    assert_int_equal(reqs[3]->status, 201);
    assert_int_equal(children(f), 3);
    for (int i = 0; i < 4; i++)
        free_request(reqs[i]);
}

/* Stopping runs what is queued first. */
static void stop_drains_the_queue(void **state)
{
    fixture *f = *state;
    work w[] = {{30, 1, true}, {31, 1, false}};
    rn_req *r0 = request(&w[0]), *r1 = request(&w[1]);
    rn_writer_push(f->writer, r0);
    sem_wait(&entered_first);
    rn_writer_push(f->writer, r1);
    sem_post(&release_first);
    rn_writer_stop(f->writer);
    f->writer = rn_writer_start(f->pool, NULL, NULL, on_resume);
    assert_int_equal(resumed, 2);
    assert_int_equal(r0->status, 201);
    assert_int_equal(r1->status, 201);
    assert_int_equal(children(f), 2);
    free_request(r0);
    free_request(r1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_failed_part_answers_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_commit_hurts_no_one_else, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_drains_the_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
