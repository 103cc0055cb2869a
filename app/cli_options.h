/* `--flag VALUE` options of the subcommands (`diemcau token`, `diemcau export`): each flag
 * stores its value (a pointer into argv) in a `const char *` member of the caller's struct. */
#ifndef DC_CLI_OPTIONS_H
#define DC_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *flag; /* "--room" */
    size_t offset;    /* offsetof the const char * member that gets its value */
} dc_cli_option;

/* Parses argv[1..argc-1] into out; false with the reason in why for an unknown flag or a
 * flag without its value. Members of flags not given are left as they are (defaults). */
bool dc_cli_parse(int argc, char **argv, const dc_cli_option *options, size_t n_options, void *out, char *why,
                  size_t why_len);

#endif
