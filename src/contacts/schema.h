/*
 * schema.h — schema text the contacts module shares with the migrations.
 *
 * The trigram index's rowid arithmetic, shared by the migrations' triggers,
 * the deferred indexing of many new rows at once (store.c) and the search.
 * One definition keeps them identical. (Migration 10 replaced the triggers
 * below; their text stays as migrations 6 and 7 ran it.)
 * These are parts of released migrations: never edit them; a change is a
 * new migration (and new macros).
 */
#ifndef RN_CONTACTS_SCHEMA_H
#define RN_CONTACTS_SCHEMA_H

#define RN_CONTACTS_FTS_INSERT_TRIGGER_V6                                                 \
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN"                   \
    "  INSERT INTO contacts_fts (rowid, search_text) VALUES (-new.seq, new.search_text);" \
    "END;"

/* Migration 7: the trigram index's rowid puts each tenant in its own range,
 * so a search seeks straight to its tenant instead of stepping over the
 * matches of every tenant written since. rowid = bucket * 2^40 + (2^40 - 1 -
 * seq): bucket is 21 bits taken from the last three characters of the
 * tenant id (random in generated ids; tenants that share a bucket share a
 * range and are still told apart by the join), and within a range the
 * newest row has the lowest rowid, so reading forwards is newest first.
 * The expressions are SQL so that the triggers, the seed and the queries
 * compute them identically; t and s are SQL expressions. */
#define RN_CONTACTS_FTS_SPAN_SQL "1099511627776"
#define RN_CONTACTS_FTS_SPAN 1099511627776LL /* the same 2^40, for C */
#define RN_CONTACTS_FTS_BUCKET_SQL(t)                                                     \
    "((unicode(substr(" t ", -1, 1)) % 128) + (unicode(substr(" t ", -2, 1)) % 128) * 128"  \
    " + (unicode(substr(" t ", -3, 1)) % 128) * 16384)"
#define RN_CONTACTS_FTS_ROWID_SQL(t, s)                                                   \
    "(" RN_CONTACTS_FTS_BUCKET_SQL(t) " * " RN_CONTACTS_FTS_SPAN_SQL " + "                 \
    RN_CONTACTS_FTS_SPAN_SQL " - 1 - (" s "))"
/* The seq a rowid stands for (the bucket drops out of the remainder). */
#define RN_CONTACTS_FTS_SEQ_SQL(r)                                                        \
    "(" RN_CONTACTS_FTS_SPAN_SQL " - 1 - ((" r ") % " RN_CONTACTS_FTS_SPAN_SQL "))"

#define RN_CONTACTS_FTS_INSERT_TRIGGER_V7                                                 \
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN"                   \
    "  INSERT INTO contacts_fts (rowid, search_text)"                                     \
    "    VALUES (" RN_CONTACTS_FTS_ROWID_SQL("new.tenant_id", "new.seq") ", new.search_text);" \
    "END;"

#endif
