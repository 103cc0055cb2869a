/* See token_cmd.h. The claims follow the same rules as the server's (token.c checks them
 * again when the token is used): a token this command prints is one the server accepts. */
#include "token_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_options.h"
#include "config.h"
#include "room_tree_file.h"
#include "token.h"

#define DEFAULT_TTL_SECONDS 43200
#define MAX_TTL_SECONDS (400 * 24 * 3600)

static int usage(const char *why)
{
    if (why) fprintf(stderr, "diemcau token: %s\n", why);
    fprintf(stderr,
            "Usage: diemcau token (--room ROOM | --room-prefix PREFIX | --scope NODE) --role "
            "chair|official|delegate|observer\n"
            "                     --name NAME [--site SITE] [--sub ID] [--grants a,b,...] [--ttl SECONDS]\n"
            "                     [--config FILE]\n"
            "Prints a join token signed with the configured token secret (token_secret_file).\n"
            "  --grants  publish, subscribe, speak, share_screen, moderate (default: the role's)\n"
            "  --scope   a room tree node id: admits to its rooms, chair rights only there\n"
            "  --ttl     validity in seconds (default %d)\n",
            DEFAULT_TTL_SECONDS);
    return 2;
}

typedef struct {
    const char *room, *room_prefix, *scope, *role, *name, *site, *sub, *grants, *ttl, *config;
} token_args;

static bool parse_args(int argc, char **argv, token_args *a, char *why, size_t why_len)
{
    static const dc_cli_option options[] = {
        {"--room", offsetof(token_args, room)},   {"--room-prefix", offsetof(token_args, room_prefix)},
        {"--scope", offsetof(token_args, scope)}, {"--role", offsetof(token_args, role)},
        {"--name", offsetof(token_args, name)},   {"--site", offsetof(token_args, site)},
        {"--sub", offsetof(token_args, sub)},     {"--grants", offsetof(token_args, grants)},
        {"--ttl", offsetof(token_args, ttl)},     {"--config", offsetof(token_args, config)},
    };
    memset(a, 0, sizeof *a);
    /* what is missing, the claims' checks say */
    return dc_cli_parse(argc, argv, options, sizeof options / sizeof options[0], a, why, why_len);
}

static bool parse_grants(const char *list, dc_grants *out, char *why, size_t why_len)
{
    *out = 0;
    char *copy = strdup(list), *save = NULL;
    bool ok = copy != NULL;
    for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; ok && name; name = strtok_r(NULL, ",", &save)) {
        dc_grants one;
        ok = dc_grant_parse(name, &one);
        if (ok) *out |= one;
        else snprintf(why, why_len, "unknown grant \"%s\"", name);
    }
    free(copy);
    return ok;
}

/* The claims from the arguments; false with the reason in why. */
static bool claims_from_args(const token_args *a, dc_token_claims *c, char *why, size_t why_len)
{
    if (!dc_token_claims_from_text(c, a->room, a->room_prefix, a->scope, a->name, a->site, a->role, a->sub, why,
                                   why_len))
        return false;
    if (a->grants && !parse_grants(a->grants, &c->grants, why, why_len)) return false;
    long long ttl = DEFAULT_TTL_SECONDS;
    if (a->ttl) {
        char *end;
        errno = 0;
        ttl = strtoll(a->ttl, &end, 10);
        if (errno || end == a->ttl || *end || ttl < 1 || ttl > MAX_TTL_SECONDS) {
            snprintf(why, why_len, "--ttl must be 1 to %d seconds", MAX_TTL_SECONDS);
            return false;
        }
    }
    c->exp = (int64_t)time(NULL) + ttl;
    return true;
}

/* A scope must name a node of the configuration's room tree: a token scoped to a typo
 * would admit nowhere. False with the reason in why. */
static bool scope_in_tree(const dc_config *cfg, const char *scope, char *why, size_t why_len)
{
    if (!scope[0]) return true;
    dc_room_tree *tree = dc_room_tree_load(cfg->room_tree, why, why_len);
    bool found = tree && dc_room_tree_find(tree, scope);
    if (tree && !found)
        snprintf(why, why_len, "--scope %s is not a node of the room tree (%.300s)", scope,
                 cfg->room_tree[0] ? cfg->room_tree : "the built-in one");
    dc_room_tree_free(tree);
    return found;
}

int dc_token_command(int argc, char **argv)
{
    token_args a;
    char why[512];
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return usage(NULL), 0;
    if (!parse_args(argc, argv, &a, why, sizeof why)) return usage(why);
    dc_token_claims claims;
    if (!claims_from_args(&a, &claims, why, sizeof why)) return usage(why);

    dc_config cfg;
    dc_config_defaults(&cfg);
    if (a.config && !dc_config_load_file(&cfg, a.config, why, sizeof why)) {
        fprintf(stderr, "diemcau token: %s\n", why);
        return 1;
    }
    if (cfg.token_secret_len < DC_TOKEN_SECRET_MIN_BYTES) {
        fprintf(stderr,
                "diemcau token: %s: set token_secret_file in the configuration given with --config "
                "(at least %d bytes; see docs/DEPLOY.md)\n",
                cfg.token_secret_len ? "the token secret is too short" : "no token secret is configured",
                DC_TOKEN_SECRET_MIN_BYTES);
        return 1;
    }
    if (!scope_in_tree(&cfg, claims.scope, why, sizeof why)) {
        fprintf(stderr, "diemcau token: %s\n", why);
        return 1;
    }
    char *token = dc_token_sign(&claims, cfg.token_secret, cfg.token_secret_len);
    if (!token) {
        fprintf(stderr, "diemcau token: cannot sign the token\n");
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;
}
