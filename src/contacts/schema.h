/*
 * schema.h — schema text the contacts module shares with the migrations.
 *
 * The trigger that indexes a new contact in the SQLite trigram index is
 * created by migration 6 (store/migrations.c) and, around each bulk batch,
 * by `ringnity contacts seed` (seed.c), which drops it for the batch and
 * indexes the batch's rows in one statement instead. One definition keeps
 * the two identical. It is part of a released migration: never edit it; a
 * change is a new migration (and a new macro).
 */
#ifndef RN_CONTACTS_SCHEMA_H
#define RN_CONTACTS_SCHEMA_H

#define RN_CONTACTS_FTS_INSERT_TRIGGER_V6                                                 \
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN"                   \
    "  INSERT INTO contacts_fts (rowid, search_text) VALUES (-new.seq, new.search_text);" \
    "END;"

#endif
