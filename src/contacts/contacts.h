/*
 * contacts.h — the contacts capability (SPEC §6): a tenant's CRM contacts,
 * synced by externalId, searched by substring.
 *
 *   GET    /api/server/contacts?search=&limit=&cursor=   server:contacts:read
 *   GET    /api/server/contacts/{id}                     server:contacts:read
 *   POST   /api/server/contacts                          server:contacts:write
 *   PATCH  /api/server/contacts/{id}                     server:contacts:write
 *   DELETE /api/server/contacts/{id}                     server:contacts:write
 *
 * Every query is scoped by the caller's tenant; an id of another tenant
 * answers exactly like one that never existed. Every write is one
 * transaction holding the change, its audit entry and its outbox event
 * (contact.created / contact.updated / contact.deleted, the contact as data).
 * The choices the contract left open are in docs/api-decisions.md.
 */
#ifndef RN_CONTACTS_CONTACTS_H
#define RN_CONTACTS_CONTACTS_H

#include "http/http.h"

void rn_api_contacts_list(rn_req *r);
void rn_api_contacts_get(rn_req *r);
/* Creates (201), or updates the contact holding the body's externalId (200). */
void rn_api_contacts_create(rn_req *r);
void rn_api_contacts_update(rn_req *r);
void rn_api_contacts_delete(rn_req *r);

/* Deferred trigram indexing for writers of many contacts in one
 * transaction (SQLite; nothing on PostgreSQL): rn_contacts_defer_index,
 * inside the transaction before the inserts, leaves the rows inserted from
 * then on out of the index (store/db.h, rn_db_defer_rows);
 * rn_contacts_index_deferred, before the commit, indexes them in one
 * ordered statement and ends the deferral. Each returns 0 or -1. */
int rn_contacts_defer_index(rn_db *db);
int rn_contacts_index_deferred(rn_db *db);

/* `ringnity contacts seed --tenant SLUG --count N`: bulk-inserts synthetic
 * contacts for benchmarks and demos, in large transactions, without audit
 * entries or events (it is a fixture loader, not an API write). */
int rn_cli_contacts_seed(int argc, char **argv);

#endif
