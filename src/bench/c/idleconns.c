/* Opens N idle connections to HOST:PORT and holds them until stdin closes. Prints "open N" when done. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: idleconns HOST PORT N\n"); return 2; }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short) atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &a.sin_addr);
    int n = atoi(argv[3]), ok = 0;
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a)) { perror("connect"); break; }
        ok++;
    }
    printf("open %d\n", ok);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) { }
    return 0;
}
