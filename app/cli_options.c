/* See cli_options.h. */
#include "cli_options.h"

#include <stdio.h>
#include <string.h>

bool dc_cli_parse(int argc, char **argv, const dc_cli_option *options, size_t n_options, void *out, char *why,
                  size_t why_len)
{
    for (int i = 1; i < argc; i++) {
        size_t o = 0;
        while (o < n_options && strcmp(argv[i], options[o].flag)) o++;
        if (o == n_options) {
            snprintf(why, why_len, "unknown option %s", argv[i]);
            return false;
        }
        if (i + 1 >= argc) {
            snprintf(why, why_len, "%s needs a value", argv[i]);
            return false;
        }
        *(const char **)((char *)out + options[o].offset) = argv[++i];
    }
    return true;
}
