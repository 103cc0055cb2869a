/* diemcau: the Điểm Cầu SFU with its signaling server and web client in one process.
 * Reads the configuration (signaling/config.h), serves until SIGINT/SIGTERM, then frees
 * everything (tests run it under ASan with leak checking). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "export_cmd.h"
#include "room_tree_file.h"
#include "server.h"
#include "token_cmd.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: the lws poll returns early with EINTR and the loop sees the flag. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "token")) return dc_token_command(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "export")) return dc_export_command(argc - 1, argv + 1);
    dc_config cfg;
    char err[512];
    switch (dc_config_from_args(&cfg, argc, argv, err, sizeof err)) {
    case DC_ARGS_EXIT_OK: return 0;
    case DC_ARGS_ERROR: fprintf(stderr, "diemcau: %s\n", err); return 2;
    case DC_ARGS_RUN: break;
    }
    if (!dc_config_validate(&cfg, err, sizeof err)) {
        fprintf(stderr, "diemcau: %s\n", err);
        return 2;
    }
    if (!dc_config_prepare_secret(&cfg)) {
        fprintf(stderr, "diemcau: no randomness for the development token secret\n");
        return 1;
    }
    /* A malformed room tree stops the start, naming its file and line. */
    dc_room_tree *tree = dc_room_tree_load(cfg.room_tree, err, sizeof err);
    if (!tree) {
        fprintf(stderr, "diemcau: room tree refused: %s\n", err);
        return 2;
    }
    install_signal_handlers();
    dc_server *server = dc_server_new(&cfg, tree, err, sizeof err);
    if (!server) {
        fprintf(stderr, "diemcau: %s\n", err);
        dc_room_tree_free(tree);
        return 1;
    }
    /* The first line is for programs (tests parse it), the second for people: the address to
     * open is in the start-up banner above, which knows the announced address and TLS. */
    uint16_t ports[256];
    size_t n_ports = dc_server_media_ports(server, ports, 256);
    printf("LISTENING http=%u media=", dc_server_http_port(server));
    for (size_t i = 0; i < n_ports; i++) printf(i ? ",%u" : "%u", ports[i]);
    printf(" tcp=%u\n", dc_server_media_tcp_port(server)); /* 0: ICE-TCP off */
    printf("Điểm Cầu: ready; open the address above in a browser (Ctrl+C stops the server)\n");
    fflush(stdout);
    dc_server_run(server, &stop_requested);
    dc_server_free(server);
    dc_room_tree_free(tree);
    return 0;
}
