#include "store/memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key: the SQL text, then each parameter as a type letter and its value,
 * NUL-separated (text parameters cannot hold a NUL). Returns its length, or 0
 * if it does not fit in cap. */
static size_t make_key(char *out, size_t cap, const char *sql, int nparams,
                       const rn_param *params)
{
    size_t n = strlen(sql) + 1;
    if (n > cap)
        return 0;
    memcpy(out, sql, n);
    for (int i = 0; i < nparams; i++) {
        char num[24];
        const char *value = "";
        char type = 'N';
        if (params[i].type == RN_P_TEXT && params[i].text) {
            type = 'T';
            value = params[i].text;
        } else if (params[i].type == RN_P_INT) {
            type = 'I';
            snprintf(num, sizeof num, "%lld", params[i].i);
            value = num;
        }
        size_t len = strlen(value);
        if (n + len + 2 > cap)
            return 0;
        out[n++] = type;
        memcpy(out + n, value, len + 1);
        n += len + 1;
    }
    return n;
}

/* A copy of src whose cells all live in one block of text. */
static rn_rows *copy_rows(const rn_rows *src)
{
    size_t ncells = (size_t)src->nrows * (size_t)src->ncols;
    size_t text = 0;
    for (size_t i = 0; i < ncells; i++)
        if (src->cells[i])
            text += strlen(src->cells[i]) + 1;
    if (text > RN_DBI_MEMO_MAX_BYTES)
        return NULL;
    rn_rows *rows = rn_dbi_rows_new(src->nrows, src->ncols);
    char *at = rows ? malloc(text ? text : 1) : NULL;
    if (!at) {
        rn_rows_free(rows);
        return NULL;
    }
    rows->text = at;
    for (size_t i = 0; i < ncells; i++) {
        if (!src->cells[i])
            continue;
        size_t len = strlen(src->cells[i]) + 1;
        memcpy(at, src->cells[i], len);
        rows->cells[i] = at;
        at += len;
    }
    return rows;
}

/* The entry remembered for key, whatever its stamp, or NULL. */
static rn_dbi_memo_entry *entry_of(rn_dbi_memo *m, const char *key, size_t len)
{
    for (int i = 0; i < RN_DBI_MEMO_SIZE; i++) {
        rn_dbi_memo_entry *e = &m->entries[i];
        if (e->key && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

static void forget(rn_dbi_memo_entry *e)
{
    free(e->key);
    rn_rows_free(e->rows);
    memset(e, 0, sizeof *e);
}

rn_rows *rn_dbi_memo_find(rn_dbi_memo *m, const uint64_t stamp[2], const char *sql, int nparams,
                          const rn_param *params)
{
    char key[RN_DBI_MEMO_MAX_BYTES];
    size_t len = make_key(key, sizeof key, sql, nparams, params);
    rn_dbi_memo_entry *e = len ? entry_of(m, key, len) : NULL;
    if (!e)
        return NULL;
    if (e->stamp[0] == stamp[0] && e->stamp[1] == stamp[1])
        return copy_rows(e->rows);
    forget(e); /* out of date: nothing will ever match it again */
    return NULL;
}

void rn_dbi_memo_store(rn_dbi_memo *m, const uint64_t stamp[2], const char *sql, int nparams,
                       const rn_param *params, const rn_rows *rows)
{
    char key[RN_DBI_MEMO_MAX_BYTES];
    size_t len = make_key(key, sizeof key, sql, nparams, params);
    if (!len)
        return;
    /* The same query's older result, else a free entry, else the next. */
    rn_dbi_memo_entry *slot = entry_of(m, key, len);
    for (int i = 0; i < RN_DBI_MEMO_SIZE && !slot; i++)
        if (!m->entries[i].key)
            slot = &m->entries[i];
    rn_rows *copy = copy_rows(rows);
    char *k = copy ? malloc(len) : NULL;
    if (!k) {
        rn_rows_free(copy);
        return;
    }
    memcpy(k, key, len);
    if (!slot) {
        slot = &m->entries[m->next];
        m->next = (m->next + 1) % RN_DBI_MEMO_SIZE;
    }
    forget(slot);
    *slot = (rn_dbi_memo_entry){{stamp[0], stamp[1]}, k, len, copy};
}

void rn_dbi_memo_clear(rn_dbi_memo *m)
{
    for (int i = 0; i < RN_DBI_MEMO_SIZE; i++)
        forget(&m->entries[i]);
    m->next = 0;
}
