/* `diemcau token …`: mints a join token with the configured secret (docs/DEPLOY.md). */
#ifndef DC_TOKEN_CMD_H
#define DC_TOKEN_CMD_H

/* argv[0] is "token". Returns the exit code: 0 with the token on stdout, 2 on bad
 * arguments (usage on stderr), 1 when the configuration has no usable secret. */
int dc_token_command(int argc, char **argv);

#endif
