/* The floor under W2 on this machine: synchronous round trips of `--size` bytes over loopback TCP
 * to a server that only echoes them back, timed as stan-bench times a sync publish. Whatever
 * p99/p50 this shows is the machine's (scheduler wake-ups, interrupts, the other core's work),
 * not any server's logic.
 *
 * Usage: loopback-echo [--connect PORT] [--count N] [--rounds R] [--size B]
 *
 * Without --connect it forks its own echo server in C (blocking read, write back) on a free
 * loopback port; with it, it pings an echo server already listening on 127.0.0.1:PORT (the bench
 * starts one in Node). One JSON line per round: {"round":i,"count":N,"p50Ms":..,"p90Ms":..,
 * "p99Ms":..,"maxMs":..}. Round 0 meets a server that has served nothing yet.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"

#define SIZE_MAX_BYTES 65536

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The C echo server: serves one connection at a time until the parent kills it. */
static void serve_echo(int listener) {
    char buffer[SIZE_MAX_BYTES];
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) _exit(1);
        set_nodelay(fd);
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0) {
            for (ssize_t written = 0; written < n;) {
                ssize_t w = write(fd, buffer + written, n - written);
                if (w <= 0) break;
                written += w;
            }
        }
        close(fd);
    }
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, (struct sockaddr *) &address, sizeof address) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *) &address, &length) != 0) {
        perror("loopback-echo: listen");
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

static int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || connect(fd, (struct sockaddr *) &address, sizeof address) != 0) {
        perror("loopback-echo: connect");
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

/* One round trip: `size` bytes out, the same number back. */
static int round_trip(int fd, char *buffer, int size) {
    for (int sent = 0; sent < size;) {
        ssize_t w = write(fd, buffer + sent, size - sent);
        if (w <= 0) return 0;
        sent += w;
    }
    for (int got = 0; got < size;) {
        ssize_t r = read(fd, buffer + got, size - got);
        if (r <= 0) return 0;
        got += r;
    }
    return 1;
}

int main(int argc, char **argv) {
    int port = 0, count = 5000, rounds = 4, size = 128;
    static struct option options[] = {
        { "connect", required_argument, NULL, 'c' },
        { "count", required_argument, NULL, 'n' },
        { "rounds", required_argument, NULL, 'r' },
        { "size", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c': port = atoi(optarg); break;
        case 'n': count = atoi(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc || count < 1 || rounds < 1 || size < 1 || size > SIZE_MAX_BYTES || port < 0 || port > 65535) goto usage;

    pid_t server = 0;
    if (port == 0) {
        int listener = listen_loopback(&port);
        if (listener < 0) return 1;
        server = fork();
        if (server < 0) {
            perror("loopback-echo: fork");
            return 1;
        }
        if (server == 0) serve_echo(listener);
        close(listener);
    }
    int fd = connect_loopback(port);
    int status = 0;
    if (fd < 0) {
        status = 1;
    } else {
        char *buffer = malloc(size);
        double *latency_ms = malloc(sizeof(double) * count);
        memset(buffer, 'x', size);
        for (int round = 0; round < rounds && status == 0; round++) {
            for (int i = 0; i < count; i++) {
                int64_t start = now_ns();
                if (!round_trip(fd, buffer, size)) {
                    fprintf(stderr, "loopback-echo: the echo server closed the connection\n");
                    status = 1;
                    break;
                }
                latency_ms[i] = (now_ns() - start) / 1e6;
            }
            if (status != 0) break;
            qsort(latency_ms, count, sizeof(double), compare_double);
            printf("{\"round\":%d,\"count\":%d,\"p50Ms\":%.4f,\"p90Ms\":%.4f,\"p99Ms\":%.4f,\"maxMs\":%.4f}\n", round, count,
                   percentile(latency_ms, count, 50), percentile(latency_ms, count, 90), percentile(latency_ms, count, 99),
                   latency_ms[count - 1]);
            fflush(stdout);
        }
        free(buffer);
        free(latency_ms);
        close(fd);
    }
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    return status;

usage:
    fprintf(stderr, "usage: %s [--connect PORT] [--count N] [--rounds R] [--size B]\n", argv[0]);
    return 2;
}
