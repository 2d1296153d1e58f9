/*
 * phone.h — phone numbers to E.164, a C face over libphonenumber (C++).
 *
 * The implementation (phone.cc) is the only C++ in the contacts module; it
 * catches every exception so none crosses into C. Buffers belong to the
 * caller; nothing is allocated that the caller must free. Both functions are
 * safe to call from any thread: they use libphonenumber's process-wide
 * PhoneNumberUtil, whose construction is locked and whose queries are const.
 */
#ifndef RN_CONTACTS_PHONE_H
#define RN_CONTACTS_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer size that holds any output of rn_phone_normalize: '+', a country
 * code of up to 3 digits, a national number of up to 17 (libphonenumber's
 * limit; some valid German numbers exceed E.164's 15 digits in total) and
 * the terminating NUL. */
#define RN_PHONE_E164_CAP 22

/* Parses a number as a person types it ("+62 812-3456-789", "0812-3456-789",
 * "(0812) 3456 789") and writes its E.164 form ("+628123456789") into out.
 * default_region is an upper-case ISO 3166 alpha-2 code ("ID") used for
 * numbers written without a +country prefix; NULL or an unknown code means
 * only +prefixed numbers are accepted.
 *
 * Accepted characters: ASCII digits, space and + - ( ) . / ; and, because
 * phones and word processors produce them, the full-width forms of those,
 * Arabic-Indic digits, no-break and ideographic spaces, and the Unicode
 * dashes and minus sign. Anything else fails, letters of every script first
 * among them: vanity numbers ("1-800-FLOWERS") are refused rather than
 * translated, and extensions ("x12", "#12", ",12") are refused rather than
 * silently dropped, since E.164 cannot carry them.
 *
 * Which check decides: a number must be IS_POSSIBLE (right length for its
 * country; the looser "possible only as a local number" is refused because
 * its E.164 form cannot be dialled) AND IsValidNumber (in an assigned range
 * of the numbering plan). Validity is required because length alone lets
 * typos through as a different, well-formed number that we would store
 * without any sign of trouble: "00 62 812 3456 789" typed in Indonesia, where
 * 00 is not an international prefix, is a possible 15-digit +62 number, and
 * "+1 000 000 0000" is a possible US number. A refused number is a visible
 * 400 the caller can fix; a wrong stored number fails later and silently.
 * The cost: validity comes from the metadata in the installed libphonenumber
 * package, so a range opened after that release is refused until the
 * package is updated. "+628123456789" is valid (Indonesian mobile), so the
 * examples above pass.
 *
 * Returns 0 on success; -1 when input is NULL, not UTF-8, contains a refused
 * character, cannot be parsed, or fails the checks above; -2 when the number
 * is fine but outcap is below its E.164 length + 1 (RN_PHONE_E164_CAP always
 * suffices). On failure out is left untouched. */
int rn_phone_normalize(const char *input, const char *default_region, char *out,
                       size_t outcap);

/* 1 if region is a region code libphonenumber has metadata for ("ID", "US",
 * "GB"), else 0. Case matters: "id" is 0, as are "UK", "001", "" and NULL. */
int rn_phone_region_known(const char *region);

#ifdef __cplusplus
}
#endif

#endif
