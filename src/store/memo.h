/*
 * memo.h — a connection's memory of a few small query results, each stamped
 * with the database's version when it was read (the driver says what a
 * version is). A driver answers rn_db_query_cached from here while the
 * version has not moved; nothing here knows what changes a database.
 */
#ifndef RN_STORE_MEMO_H
#define RN_STORE_MEMO_H

#include <stdint.h>

#include "store/db_internal.h"

#define RN_DBI_MEMO_SIZE 8
/* Results larger than this are not remembered. */
#define RN_DBI_MEMO_MAX_BYTES 4096

typedef struct {
    uint64_t stamp[2]; /* the driver's version when the result was read */
    char *key;         /* SQL text and parameters, see memo.c; NULL if free */
    size_t key_len;
    rn_rows *rows;
} rn_dbi_memo_entry;

typedef struct {
    rn_dbi_memo_entry entries[RN_DBI_MEMO_SIZE];
    int next; /* the entry a new result replaces (round robin) */
} rn_dbi_memo;

/* A copy of the result remembered for (sql, params) at exactly this stamp,
 * or NULL. */
rn_rows *rn_dbi_memo_find(rn_dbi_memo *m, const uint64_t stamp[2], const char *sql, int nparams,
                          const rn_param *params);
/* Remembers a copy of rows for (sql, params) at stamp; forgets what it
 * replaces. Does nothing if the result is too large or memory is short. */
void rn_dbi_memo_store(rn_dbi_memo *m, const uint64_t stamp[2], const char *sql, int nparams,
                       const rn_param *params, const rn_rows *rows);
void rn_dbi_memo_clear(rn_dbi_memo *m);

#endif
