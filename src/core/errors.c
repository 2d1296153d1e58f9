#include "core/errors.h"

typedef struct {
    const char *code;
    int status;
    const char *message;
} error_row;

static const error_row ERRORS[RN_ERROR_COUNT] = {
#define RN_ERR_ROW(code, status, message) {#code, status, message},
    RN_ERROR_TABLE(RN_ERR_ROW)
#undef RN_ERR_ROW
};

const char *rn_err_code(rn_err e) { return ERRORS[e].code; }
int rn_err_status(rn_err e) { return ERRORS[e].status; }
const char *rn_err_message(rn_err e) { return ERRORS[e].message; }
