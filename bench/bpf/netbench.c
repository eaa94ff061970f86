// SPDX-License-Identifier: Apache-2.0
/*
 * netbench — loopback request/response load for bench/net-overhead.ts.
 *
 *   netbench server tcp|udp
 *       binds 127.0.0.1 on an ephemeral port, prints "port=N" on stdout, then
 *       echoes every 64-byte message back until SIGTERM, then prints
 *       "cpu_us=N" (its CPU time). TCP: one connection at a time (the client
 *       never has two open), TCP_NODELAY.
 *   netbench client tcp|udp PORT DURATION_MS [MSGS_PER_CONN]
 *       ping-pong of 64-byte requests and 64-byte replies for DURATION_MS.
 *       TCP: one persistent connection, or a new connection every
 *       MSGS_PER_CONN requests when it is > 0. UDP: sendto/recvfrom on one
 *       unconnected socket. Prints "ops=N conns=C elapsed_ns=T errors=E cpu_us=U".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* user + system CPU time of this process, us */
static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Reads or writes exactly MSG bytes; returns 0, or -1 on EOF or error. */
static int io_all(int fd, char *buf, int reading)
{
	size_t done = 0;

	while (done < MSG) {
		ssize_t n = reading ? read(fd, buf + done, MSG - done) : write(fd, buf + done, MSG - done);

		if (n <= 0) {
			if (n < 0 && errno == EINTR && !stopping)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Serves until SIGTERM, then prints "cpu_us=N" (its own CPU time) and exits. */
static int server(int tcp)
{
	struct sigaction sa;
	struct sockaddr_in a = loopback(0);
	socklen_t alen = sizeof(a);
	char buf[MSG];
	int one = 1;
	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (tcp && listen(fd, 128) < 0)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		die("getsockname");
	printf("port=%d\n", ntohs(a.sin_port));
	fflush(stdout);
	if (!tcp) {
		while (!stopping) {
			struct sockaddr_in peer;
			socklen_t plen = sizeof(peer);
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);

			if (n > 0)
				sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
		}
	}
	while (tcp && !stopping) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		nodelay(c);
		while (io_all(c, buf, 1) == 0 && io_all(c, buf, 0) == 0)
			;
		close(c);
	}
	printf("cpu_us=%llu\n", (unsigned long long)cpu_us());
	return 0;
}

static int tcp_connect(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)a, sizeof(*a)) < 0) {
		close(fd);
		return -1;
	}
	nodelay(fd);
	return fd;
}

static int client(int tcp, int port, uint64_t duration_ns, long per_conn)
{
	struct sockaddr_in a = loopback(port);
	char buf[MSG];
	uint64_t ops = 0, conns = 0, errors = 0, start, end;
	int fd = -1;

	memset(buf, 'x', sizeof(buf));
	start = now_ns();
	end = start + duration_ns;
	if (!tcp) {
		struct timeval tv = { 1, 0 };

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	for (;;) {
		if ((ops & 63) == 0 && now_ns() >= end)
			break;
		if (tcp) {
			if (fd < 0) {
				fd = tcp_connect(&a);
				if (fd < 0) {
					errors++;
					if (errors > 1000)
						die("connect");
					continue;
				}
				conns++;
			}
			if (io_all(fd, buf, 0) < 0 || io_all(fd, buf, 1) < 0) {
				errors++;
				close(fd);
				fd = -1;
				continue;
			}
			ops++;
			if (per_conn > 0 && ops % (uint64_t)per_conn == 0) {
				close(fd);
				fd = -1;
			}
		} else {
			if (sendto(fd, buf, MSG, 0, (struct sockaddr *)&a, sizeof(a)) != MSG ||
			    recvfrom(fd, buf, MSG, 0, NULL, NULL) != MSG) {
				errors++;
				continue;
			}
			ops++;
		}
	}
	if (fd >= 0)
		close(fd);
	printf("ops=%llu conns=%llu elapsed_ns=%llu errors=%llu cpu_us=%llu\n", (unsigned long long)ops,
	       (unsigned long long)conns, (unsigned long long)(now_ns() - start), (unsigned long long)errors,
	       (unsigned long long)cpu_us());
	return 0;
}

int main(int argc, char **argv)
{
	int tcp;

	if (argc < 3 || (strcmp(argv[2], "tcp") && strcmp(argv[2], "udp")))
		goto usage;
	tcp = strcmp(argv[2], "tcp") == 0;
	if (strcmp(argv[1], "server") == 0)
		return server(tcp);
	if (strcmp(argv[1], "client") == 0 && argc >= 5)
		return client(tcp, atoi(argv[3]), strtoull(argv[4], NULL, 10) * 1000000ull,
			      argc > 5 ? atol(argv[5]) : 0);
usage:
	fprintf(stderr, "usage: %s server tcp|udp | client tcp|udp PORT DURATION_MS [MSGS_PER_CONN]\n", argv[0]);
	return 2;
}
