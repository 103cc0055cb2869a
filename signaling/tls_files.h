/* Checks the HTTPS certificate and key before libwebsockets gets them, so that a start-up
 * failure says which file is wrong and how, instead of a guess under lws's own lines. */
#ifndef DC_TLS_FILES_H
#define DC_TLS_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* True when cert_path holds a PEM certificate and key_path the (unencrypted) PEM private key
 * that belongs to it; else false with the reason in err. */
bool dc_tls_files_check(const char *cert_path, const char *key_path, char *err, size_t err_len);

#endif
