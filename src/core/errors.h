/*
 * errors.h — the one table of error codes: HTTP status and default message.
 *
 * Every error a client can see is listed here once. Handlers name a code;
 * the HTTP layer turns it into the contract's error shape. Messages are safe
 * to log and never contain request data.
 */
#ifndef RN_CORE_ERRORS_H
#define RN_CORE_ERRORS_H

#define RN_ERROR_TABLE(X)                                                                   \
    X(SERVER_REQUEST_INVALID_JSON, 400, "The request body is not a valid JSON object.")    \
    X(SERVER_REQUEST_VALIDATION_FAILED, 400, "A parameter or field failed validation.")    \
    X(SERVER_ROUTE_NOT_FOUND, 404, "No such route.")                                        \
    X(SERVER_METHOD_NOT_ALLOWED, 405, "This route does not accept that method.")            \
    X(SERVER_REQUEST_TOO_LARGE, 413, "The request body is too large.")                      \
    X(SERVER_UNSUPPORTED_MEDIA_TYPE, 415, "Request bodies must be application/json.")       \
    X(SERVER_API_RATE_LIMITED, 429, "Too many requests; retry later.")                      \
    X(SERVER_INTERNAL_ERROR, 500, "An unexpected error occurred.")                          \
    X(SERVER_UNAVAILABLE, 503, "The service is temporarily unavailable.")                   \
    X(SERVER_API_KEY_MISSING, 401, "A server API key is required.")                         \
    X(SERVER_API_KEY_INVALID, 401, "The server API key is invalid.")                        \
    X(SERVER_API_SCOPE_DENIED, 403, "The server API key lacks the required scope.")         \
    X(SERVER_IDEMPOTENCY_KEY_REUSED, 409,                                                   \
      "This Idempotency-Key was already used with a different request.")                  \
    X(SERVER_IDEMPOTENCY_KEY_INVALID, 400, "The Idempotency-Key header is malformed.")      \
    X(SERVER_IDEMPOTENCY_IN_PROGRESS, 409,                                                  \
      "A request with this Idempotency-Key is still being processed.")                     \
    X(SERVER_CURSOR_INVALID, 400, "The cursor is invalid.")                                 \
    X(SERVER_CONTACT_NOT_FOUND, 404, "Contact not found.")                                  \
    X(SERVER_CONTACT_VALIDATION_FAILED, 400, "The contact failed validation.")              \
    X(SERVER_CONTACT_CONFLICT, 409, "Another contact already holds that externalId.")       \
    X(SERVER_VISITOR_CONTEXT_EMPTY, 400, "The visitor context is empty.")                   \
    X(SERVER_VISITOR_CONTEXT_TOO_LARGE, 413, "The visitor context exceeds 4 KiB.")          \
    X(SERVER_AGENT_NOT_FOUND, 404, "No active agent with that username.")                   \
    X(SERVER_ADMIN_NOT_FOUND, 404, "No active staff member with that username.")            \
    X(SERVER_ADMIN_ROLE_REQUIRED, 403, "That staff member is not an admin.")                \
    X(SERVER_SDK_SCOPE_INVALID, 400, "Unknown SDK scope.")                                  \
    X(SERVER_REPORT_PERIOD_INVALID, 400, "The report period is invalid.")                   \
    X(SERVER_REPORT_FORMAT_INVALID, 400, "The report format is invalid.")                   \
    X(SERVER_WEBHOOK_NOT_FOUND, 404, "Webhook not found.")                                  \
    X(SERVER_WEBHOOK_URL_INVALID, 400, "The webhook URL is invalid.")                       \
    X(SERVER_WEBHOOK_EVENT_INVALID, 400, "Unknown webhook event type.")                     \
    X(SERVER_WEBHOOK_DELIVERY_NOT_FOUND, 404, "Webhook delivery not found.")                \
    X(SDK_CONTEXT_TOKEN_INVALID, 401, "The visitor context token is invalid.")              \
    X(SDK_ORIGIN_NOT_ALLOWED, 403, "This origin is not an allowed widget domain.")          \
    X(SDK_TENANT_NOT_FOUND, 404, "No such tenant.")                                         \
    X(SDK_TOKEN_MISSING, 401, "An SDK token is required.")                                  \
    X(SDK_TOKEN_INVALID, 401, "The SDK token is invalid.")                                  \
    X(SDK_TOKEN_EXPIRED, 401, "The SDK token has expired.")                                 \
    X(SDK_SCOPE_DENIED, 403, "The SDK token lacks the required scope.")                     \
    X(SDK_NOT_FOUND, 404, "Not found.")                                                     \
    X(SDK_VISITOR_SESSION_REQUIRED, 403,                                                    \
      "Start a visitor session with this context token first.")                             \
    X(SDK_CONVERSATION_CLOSED, 409, "The conversation is closed.")                          \
    X(SDK_CALL_ENDED, 409, "The call has already ended.")

typedef enum {
#define RN_ERR_ENUM(code, status, message) RN_##code,
    RN_ERROR_TABLE(RN_ERR_ENUM)
#undef RN_ERR_ENUM
    RN_ERROR_COUNT
} rn_err;

const char *rn_err_code(rn_err e);
int rn_err_status(rn_err e);
const char *rn_err_message(rn_err e);

#endif
