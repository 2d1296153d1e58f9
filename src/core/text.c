#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rn_text_on_stack(rn_text *t, char *buf, size_t cap)
{
    *t = (rn_text){.text = buf, .cap = cap, .borrowed = true};
    if (cap)
        buf[0] = '\0';
}

static bool grow(rn_text *t, size_t need)
{
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < need)
        cap *= 2;
    char *grown = t->borrowed ? malloc(cap) : realloc(t->text, cap);
    if (!grown)
        return false;
    if (t->borrowed && t->len)
        memcpy(grown, t->text, t->len);
    t->text = grown;
    t->cap = cap;
    t->borrowed = false;
    return true;
}

void rn_text_put(rn_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap && !grow(t, t->len + n + 1)) {
        t->failed = true;
        return;
    }
    memcpy(t->text + t->len, s, n);
    t->len += n;
    t->text[t->len] = '\0';
}

void rn_text_puts(rn_text *t, const char *s)
{
    rn_text_put(t, s, strlen(s));
}

void rn_text_free(rn_text *t)
{
    if (!t->borrowed)
        free(t->text);
    memset(t, 0, sizeof *t);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one. */
static int utf8_sequence(const unsigned char *p)
{
    unsigned c = p[0];
    int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
              : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0)
        return 0;
    unsigned cp = extra == 0 ? c : c & (0x3Fu >> extra);
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return extra + 1;
}

static void put_escape(rn_text *t, unsigned char c)
{
    static const char shorts[][3] = {[8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f",
                                     [13] = "\\r"};
    char esc[8];
    if (c == '"' || c == '\\') {
        esc[0] = '\\', esc[1] = (char)c;
        rn_text_put(t, esc, 2);
    } else if (c < sizeof shorts / sizeof *shorts && shorts[c][0]) {
        rn_text_put(t, shorts[c], 2);
    } else {
        snprintf(esc, sizeof esc, "\\u%04x", c);
        rn_text_put(t, esc, 6);
    }
}

void rn_text_json_string(rn_text *t, const char *s)
{
    if (!s) {
        rn_text_put(t, "null", 4);
        return;
    }
    rn_text_put(t, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }
        int n = *p >= 0x80 ? utf8_sequence(p) : 0;
        if (n > 0) {
            p += n;
            continue;
        }
        rn_text_put(t, (const char *)run, (size_t)(p - run));
        if (*p >= 0x80)
            rn_text_put(t, "\\ufffd", 6);
        else
            put_escape(t, *p);
        run = ++p;
    }
    rn_text_put(t, (const char *)run, (size_t)(p - run));
    rn_text_put(t, "\"", 1);
}

void rn_text_int(rn_text *t, long long v)
{
    char num[24];
    size_t i = sizeof num;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        num[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        num[--i] = '-';
    rn_text_put(t, num + i, sizeof num - i);
}
