/*
 * csv.c — RFC 4180 cells and the three report tables.
 *
 * A cell holding a comma, a double quote, CR or LF is quoted, with quotes
 * doubled. Spreadsheets treat a text cell that starts with = + - @ tab or CR
 * as a formula (or strip the tab and then do), so such a cell gets a leading
 * apostrophe: the usual neutralisation, which Excel, LibreOffice and Google
 * Sheets show as text and hide. Numbers are written as numbers (never
 * negative here), so only text cells are touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"

static void put(rn_csv *c, const char *s, size_t n)
{
    if (c->failed)
        return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *grown = realloc(c->buf, cap);
        if (!grown) {
            c->failed = 1;
            return;
        }
        c->buf = grown;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

static void separator(rn_csv *c)
{
    if (c->cells++ > 0)
        put(c, ",", 1);
}

void rn_csv_text(rn_csv *c, const char *s)
{
    separator(c);
    if (!s)
        return;
    bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        put(c, "\"", 1);
    if (formula)
        put(c, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(c, "\"", 1);
        put(c, p, 1);
    }
    if (quote)
        put(c, "\"", 1);
}

void rn_csv_int(rn_csv *c, long long v)
{
    char num[24];
    separator(c);
    put(c, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

void rn_csv_empty(rn_csv *c)
{
    separator(c);
}

void rn_csv_end_row(rn_csv *c)
{
    put(c, "\r\n", 2);
    c->cells = 0;
}
