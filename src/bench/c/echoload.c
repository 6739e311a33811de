/*
 * A pipelined echo load client: N connections, M messages of S bytes in flight on each, for D seconds.
 * Prints one JSON line: {"msgs":..,"msgsPerSec":..,"p50Micros":..,"p99Micros":..}
 * Latency is per message: from the send of a message to the arrival of its last byte.
 * Usage: echoload HOST PORT CONNECTIONS INFLIGHT SIZE SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

struct c {
    int fd;
    long long *sent;     /* send time of each message in flight (ring) */
    int head, count;
    long received;       /* bytes of the current message received so far */
};

#define HIST 200000
static long hist[HIST];   /* latency histogram in microseconds */

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: echoload HOST PORT CONNECTIONS INFLIGHT SIZE SECONDS\n");
        return 2;
    }
    int n = atoi(argv[3]), inflight = atoi(argv[4]), size = atoi(argv[5]);
    double secs = atof(argv[6]);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short) atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &a.sin_addr);
    int ep = epoll_create1(0);
    struct c *cs = calloc((size_t) n, sizeof *cs);
    char *msg = malloc((size_t) size * (size_t) inflight);
    memset(msg, 'x', (size_t) size * (size_t) inflight);
    char *buf = malloc(65536);
    int one = 1;
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *) &a, sizeof a)) { perror("connect"); return 1; }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cs[i].fd = fd;
        cs[i].sent = calloc((size_t) inflight, sizeof(long long));
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned) i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    long long start = now_ns(), end = start + (long long) (secs * 1e9);
    for (int i = 0; i < n; i++) {
        long long t = now_ns();
        for (int k = 0; k < inflight; k++) cs[i].sent[k] = t;
        cs[i].count = inflight;
        if (send(cs[i].fd, msg, (size_t) size * (size_t) inflight, MSG_NOSIGNAL) < 0) { perror("send"); return 1; }
    }
    long msgs = 0;
    struct epoll_event events[256];
    while (now_ns() < end) {
        int k = epoll_wait(ep, events, 256, 100);
        for (int e = 0; e < k; e++) {
            struct c *c = &cs[events[e].data.u32];
            ssize_t r = recv(c->fd, buf, 65536, MSG_DONTWAIT);
            if (r <= 0) continue;
            c->received += r;
            int done = 0;
            long long t = now_ns();
            while (c->received >= size && c->count > 0) {
                c->received -= size;
                long us = (long) ((t - c->sent[c->head]) / 1000);
                hist[us < HIST ? us : HIST - 1]++;
                c->head = (c->head + 1) % inflight;
                c->count--;
                done++;
            }
            msgs += done;
            for (int d = 0; d < done; d++) {
                c->sent[(c->head + c->count) % inflight] = t;
                c->count++;
            }
            if (done && send(c->fd, msg, (size_t) size * (size_t) done, MSG_NOSIGNAL) < 0) { perror("send"); return 1; }
        }
    }
    double elapsed = (now_ns() - start) / 1e9;
    long total = 0, p50 = 0, p99 = 0, acc = 0;
    for (int i = 0; i < HIST; i++) total += hist[i];
    for (int i = 0; i < HIST; i++) {
        acc += hist[i];
        if (!p50 && acc * 2 >= total) p50 = i;
        if (!p99 && acc * 100 >= total * 99) { p99 = i; break; }
    }
    printf("{\"msgs\":%ld,\"msgsPerSec\":%.0f,\"p50Micros\":%ld,\"p99Micros\":%ld}\n", msgs, msgs / elapsed, p50, p99);
    return 0;
}
