/* SPDX-License-Identifier: MIT */
/*
 * "Is the gateway usable yet?" probe for the end-to-end set-up benchmark
 * (bench/peers.sh). One process, no shell:
 *
 *   reach [-T MS] [-i INETNS] NSPATH NSPORT HOSTADDR HOSTPORT [OUTADDR OUTPORT]
 *
 *   inbound:  a listener on NSPORT inside the namespace NSPATH; a client in
 *             the namespace INETNS (default /run/netns/inet) connects to
 *             HOSTADDR:HOSTPORT (the published port), sends one byte, the
 *             listener accepts, reads it and answers one byte.
 *   outbound: (when OUTADDR OUTPORT are given) a client inside NSPATH
 *             connects to OUTADDR:OUTPORT (a connlat server in INETNS: read
 *             one byte, answer one byte).
 * Each leg is retried every millisecond until it succeeds or MS (default
 * 5000) have passed since the start. The client speaks first, so userspace
 * forwarders that wait for data (pasta) work too. Clients close with RST.
 * Prints "in_us=.. out_us=.. tries=.." (times since the start) and exits 0,
 * or 1 when a leg never succeeded.
 *
 * Runs only inside a lab (tests/lab/lab.sh): every address is the lab's own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double t_start;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void usage(void)
{
	fprintf(stderr, "usage: reach [-T MS] [-i INETNS] NSPATH NSPORT HOSTADDR HOSTPORT [OUTADDR OUTPORT]\n");
	exit(2);
}

static int port_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		usage();
	return (int)v;
}

static void addr_arg(struct sockaddr_in *sa, const char *a, const char *p)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port_arg(p));
	if (inet_pton(AF_INET, a, &sa->sin_addr) != 1)
		usage();
}

/* A socket made in the network namespace nsfd (sockets keep the namespace
 * they were created in); the caller's namespace is restored. */
static int socket_in(int nsfd, int self, int type)
{
	int s;

	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -1;
	s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (setns(self, CLONE_NEWNET) < 0) {
		perror("reach: setns back");
		exit(1);
	}
	return s;
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) == 1 && (p.revents & ev);
}

/* Connect, send one byte; returns the socket or -1. */
static int dial(int nsfd, int self, const struct sockaddr_in *sa, int wait_ms)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int err = 0;
	socklen_t len = sizeof(err);
	int s = socket_in(nsfd, self, SOCK_STREAM | SOCK_NONBLOCK);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		if (errno != EINPROGRESS || !wait_fd(s, POLLOUT, wait_ms) ||
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			close(s);
			return -1;
		}
	}
	if (send(s, "x", 1, MSG_NOSIGNAL) != 1) {
		close(s);
		return -1;
	}
	return s;
}

static int get_byte(int s, int wait_ms)
{
	char c;

	return wait_fd(s, POLLIN, wait_ms) && recv(s, &c, 1, 0) == 1;
}

int main(int argc, char *argv[])
{
	const char *inet_path = "/run/netns/inet";
	struct sockaddr_in host, out, any = { .sin_family = AF_INET };
	double deadline, in_us = -1, out_us = -1;
	int limit_ms = 5000, opt, self, inet, ns = -1, ls = -1, one = 1, tries = 0;
	bool want_out;

	while ((opt = getopt(argc, argv, "T:i:")) != -1) {
		switch (opt) {
		case 'T': limit_ms = atoi(optarg); break;
		case 'i': inet_path = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 4 && argc - optind != 6)
		usage();
	t_start = now_us();
	deadline = t_start + limit_ms * 1e3;
	signal(SIGPIPE, SIG_IGN);
	want_out = argc - optind == 6;
	any.sin_port = htons(port_arg(argv[optind + 1]));
	addr_arg(&host, argv[optind + 2], argv[optind + 3]);
	if (want_out)
		addr_arg(&out, argv[optind + 4], argv[optind + 5]);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	inet = open(inet_path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || inet < 0) {
		perror("reach: open netns");
		return 1;
	}
	/* The namespace, then a listener in it (both may need a moment). */
	while (now_us() < deadline) {
		if (ns < 0)
			ns = open(argv[optind], O_RDONLY | O_CLOEXEC);
		if (ns >= 0 && ls < 0) {
			ls = socket_in(ns, self, SOCK_STREAM | SOCK_NONBLOCK);
			if (ls >= 0 && (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
					bind(ls, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(ls, 16) < 0)) {
				close(ls);
				ls = -1;
			}
		}
		if (ls >= 0)
			break;
		usleep(1000);
	}
	/* Inbound through the published port. */
	while (ls >= 0 && now_us() < deadline) {
		int c, a;

		tries++;
		c = dial(inet, self, &host, 200);
		if (c >= 0 && wait_fd(ls, POLLIN, 200) && (a = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			int ok = get_byte(a, 200) && send(a, "y", 1, MSG_NOSIGNAL) == 1 && get_byte(c, 200);

			close(a);
			if (ok) {
				close(c);
				in_us = now_us() - t_start;
				break;
			}
		}
		if (c >= 0)
			close(c);
		usleep(1000);
	}
	/* Outbound to the "internet". */
	while (want_out && ns >= 0 && now_us() < deadline) {
		int c = dial(ns, self, &out, 200);

		tries++;
		if (c >= 0 && get_byte(c, 200)) {
			close(c);
			out_us = now_us() - t_start;
			break;
		}
		if (c >= 0)
			close(c);
		usleep(1000);
	}
	printf("in_us=%.0f out_us=%.0f tries=%d\n", in_us, want_out ? out_us : 0.0, tries);
	return in_us < 0 || (want_out && out_us < 0);
}
