/*
 * text.h — a growable text buffer and JSON written directly as text.
 *
 * Hot answers (contacts, reports, health) and the request log are written
 * here instead of through jansson trees: building a tree, dumping it and
 * freeing it costs more than the work it describes.
 *
 * Ownership: zero-initialise an rn_text (or rn_text_on_stack it), append,
 * then rn_text_free it. After an allocation failure `failed` is set and
 * further appends are ignored; the caller checks it once at the end.
 */
#ifndef RN_CORE_TEXT_H
#define RN_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *text; /* NUL-terminated once anything was appended */
    size_t len, cap;
    bool failed;
    bool borrowed; /* text is the caller's buffer, not ours to free */
} rn_text;

/* Starts t on the caller's buffer; it moves to the heap only if it grows. */
void rn_text_on_stack(rn_text *t, char *buf, size_t cap);
void rn_text_put(rn_text *t, const char *s, size_t n);
void rn_text_puts(rn_text *t, const char *s);
void rn_text_free(rn_text *t);

/* s as a JSON string (NULL: null). Quotes, backslashes and control
 * characters are escaped; a byte that is not part of valid UTF-8 becomes
 * U+FFFD, so the output is always valid JSON whatever s holds. */
void rn_text_json_string(rn_text *t, const char *s);
/* A decimal integer. */
void rn_text_int(rn_text *t, long long v);

#endif
