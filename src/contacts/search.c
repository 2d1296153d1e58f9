/*
 * search.c — the case folding behind contact search.
 *
 * Both stores search one stored column, search_text, holding the searchable
 * fields already folded here, and the search term is folded the same way.
 * Folding in C rather than with SQL lower() gives one behaviour on both
 * stores: SQLite's lower() only knows ASCII, PostgreSQL's depends on the
 * database's locale. The mapping is the Unicode simple lower-case mapping
 * from glibc's built-in C.UTF-8 locale (so "ÉLODIE" finds "élodie" and
 * "ΑΘΗΝΑ" finds "αθηνα"); accents are kept, so "elodie" does not find
 * "élodie". Scripts without case (CJK, emoji) pass through unchanged.
 */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "contacts/fields.h"
#include "contacts/model.h"

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_open(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t fold_code_point(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    /* Without the locale (a libc lacking C.UTF-8), only ASCII folds. */
    if (!utf8_locale)
        return cp;
    wint_t lower = towlower_l((wint_t)cp, utf8_locale);
    /* Never fold into a surrogate or out of range (no libc does; be sure). */
    if (lower > 0x10FFFF || (lower >= 0xD800 && lower <= 0xDFFF))
        return cp;
    return (uint32_t)lower;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *rn_contact_fold(const char *s)
{
    pthread_once(&utf8_once, utf8_locale_open);
    size_t len = strlen(s);
    /* A folded code point needs at most 4 bytes and every input one >= 1. */
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = rn_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            free(out);
            return NULL;
        }
        at += utf8_encode(fold_code_point(cp), out + at);
        i += n;
    }
    out[at] = '\0';
    return out;
}

char *rn_contact_search_text(const rn_contact *c)
{
    const char *parts[] = {c->name, c->email, c->company, c->external_id, c->phone};
    size_t n = sizeof parts / sizeof *parts;
    size_t total = n;
    for (size_t i = 0; i < n; i++)
        total += parts[i] ? strlen(parts[i]) : 0;
    char *joined = malloc(total + 1);
    if (!joined)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            joined[at++] = '\x1f';
        size_t len = parts[i] ? strlen(parts[i]) : 0;
        memcpy(joined + at, parts[i] ? parts[i] : "", len);
        at += len;
    }
    joined[at] = '\0';
    char *folded = rn_contact_fold(joined);
    free(joined);
    return folded;
}
