/* See export_cmd.h. The record's path comes from --record, else from the configuration
 * (--config FILE on top of the defaults), as the server would find it. */
#include "export_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_options.h"
#include "config.h"
#include "record.h"

static int usage(const char *why)
{
    if (why) fprintf(stderr, "diemcau export: %s\n", why);
    fprintf(stderr, "Usage: diemcau export (--meeting ID | --room ROOM) [--what attendance|events]\n"
                    "                      [--format json|csv] [--record PATH] [--config FILE]\n"
                    "       diemcau export --what meetings [--format json|csv] [--record PATH] [--config FILE]\n"
                    "Writes the meeting record's attendance (default), event log (floor, moderation, chat) or\n"
                    "list of meetings to stdout, as JSON (default) or CSV.\n"
                    "  --room    the newest meeting held in that room\n"
                    "  --record  the record file (default: record_path of the configuration)\n");
    return 2;
}

typedef struct {
    const char *meeting, *room, *what, *format, *record, *config;
} export_args;

static bool parse_args(int argc, char **argv, export_args *a, char *why, size_t why_len)
{
    static const dc_cli_option options[] = {
        {"--meeting", offsetof(export_args, meeting)}, {"--room", offsetof(export_args, room)},
        {"--what", offsetof(export_args, what)},       {"--format", offsetof(export_args, format)},
        {"--record", offsetof(export_args, record)},   {"--config", offsetof(export_args, config)},
    };
    *a = (export_args){.what = "attendance", .format = "json"};
    if (!dc_cli_parse(argc, argv, options, sizeof options / sizeof options[0], a, why, why_len)) return false;
    bool list = !strcmp(a->what, "meetings");
    if (!list && strcmp(a->what, "attendance") && strcmp(a->what, "events")) {
        snprintf(why, why_len, "--what must be attendance, events or meetings");
        return false;
    }
    if (strcmp(a->format, "json") && strcmp(a->format, "csv")) {
        snprintf(why, why_len, "--format must be json or csv");
        return false;
    }
    if (!list && !a->meeting == !a->room) {
        snprintf(why, why_len, "give one of --meeting ID or --room ROOM");
        return false;
    }
    if (list && (a->meeting || a->room)) {
        snprintf(why, why_len, "--what meetings lists every meeting: no --meeting or --room");
        return false;
    }
    return true;
}

static bool parse_meeting_id(const char *text, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    *out = v;
    return *text >= '0' && *text <= '9' && !*end && v > 0;
}

/* The record's path: --record, else the configuration's record_path. */
static bool record_path(const export_args *a, char *out, size_t out_len, char *why, size_t why_len)
{
    if (a->record) {
        snprintf(out, out_len, "%s", a->record);
        return true;
    }
    dc_config cfg;
    dc_config_defaults(&cfg);
    if (a->config && !dc_config_load_file(&cfg, a->config, why, why_len)) return false;
    if (!cfg.record_path[0]) {
        snprintf(why, why_len, "the configuration keeps no record (record_path is empty); give --record PATH");
        return false;
    }
    snprintf(out, out_len, "%s", cfg.record_path);
    return true;
}

/* The meeting asked for, or 0 with the reason in why. */
static int64_t find_meeting(dc_record *r, const export_args *a, char *why, size_t why_len)
{
    int64_t id = 0;
    if (a->room) {
        id = dc_record_last_meeting_in_room(r, a->room);
        if (!id) snprintf(why, why_len, "no meeting in room \"%s\" in the record", a->room);
        return id;
    }
    if (!parse_meeting_id(a->meeting, &id)) {
        snprintf(why, why_len, "--meeting must be a meeting id (a positive number; --what meetings lists them)");
        return 0;
    }
    if (!dc_record_meeting_exists(r, id)) {
        snprintf(why, why_len, "no meeting %" PRId64 " in the record (--what meetings lists them)", id);
        return 0;
    }
    return id;
}

int dc_export_command(int argc, char **argv)
{
    export_args a;
    char why[512];
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return usage(NULL), 0;
    if (!parse_args(argc, argv, &a, why, sizeof why)) return usage(why);
    char path[DC_CONFIG_PATH_MAX];
    if (!record_path(&a, path, sizeof path, why, sizeof why)) {
        fprintf(stderr, "diemcau export: %s\n", why);
        return 1;
    }
    if (access(path, R_OK) != 0) { /* SQLite would only say "unable to open database file" */
        fprintf(stderr, "diemcau export: cannot read the record %s: %s\n", path, strerror(errno));
        return 1;
    }
    dc_record *r = dc_record_open_readonly(path, why, sizeof why);
    if (!r) {
        fprintf(stderr, "diemcau export: %s\n", why);
        return 1;
    }
    bool list = !strcmp(a.what, "meetings");
    int64_t meeting = list ? 0 : find_meeting(r, &a, why, sizeof why);
    char *text = list || meeting ? dc_record_export(r, meeting, a.what, a.format, why, sizeof why) : NULL;
    dc_record_close(r);
    if (!text) {
        fprintf(stderr, "diemcau export: %s\n", why);
        return 1;
    }
    size_t len = strlen(text);
    bool written = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0;
    free(text);
    if (!written) {
        perror("diemcau export: writing the export");
        return 1;
    }
    return 0;
}
