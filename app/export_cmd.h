/* `diemcau export …`: the meeting record (record.h) as JSON or CSV on stdout, read through a
 * read-only connection, so it may run beside a live server (docs/DEPLOY.md). */
#ifndef DC_EXPORT_CMD_H
#define DC_EXPORT_CMD_H

/* argv[0] is "export". Returns the exit code: 0 with the export on stdout, 2 on bad
 * arguments (usage on stderr), 1 when the record cannot be read or has no such meeting. */
int dc_export_command(int argc, char **argv);

#endif
