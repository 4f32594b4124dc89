/* SPDX-License-Identifier: MIT */
/*
 * Per-connection TCP latency through a published port, client speaks first.
 *
 *   connlat -l PORT [-6] [-T SECONDS]
 *       server: accept loop; per connection read 1 byte, send 1 byte, close.
 *       Exits after SECONDS (default 600). -6: on [::] (IPv4 too, mapped),
 *       else on 0.0.0.0.
 *   connlat [-n COUNT] [-T SECONDS] [-w MS] ADDR PORT
 *       client: COUNT (default 2000) sequential connections to ADDR:PORT (ADDR
 *       IPv4 or IPv6), each
 *       connect, send 1 byte, receive 1 byte, close with RST (SO_LINGER 0, so
 *       no TIME_WAIT socket is left to slow down the next port search). Stops
 *       after SECONDS (default 60) even when COUNT is not reached; each step
 *       waits at most MS ms (default 2000).
 *       Prints one line:
 *         n=OK fail=F p50_us=.. p90_us=.. p99_us=.. mean_us=.. min_us=.. max_us=..
 *       and exits 1 when any connection failed or none succeeded.
 *
 * Runs inside a lab only (bench/rules.sh, bench/ipv6.sh): the addresses it is given
 * are the lab's own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: connlat -l PORT [-6] [-T SECONDS]\n"
			"       connlat [-n COUNT] [-T SECONDS] [-w MS] ADDR PORT\n");
	exit(2);
}

static long arg_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static int serve(int port, int seconds, int v6)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, zero = 0, ls = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	signal(SIGPIPE, SIG_IGN);
	alarm(seconds);		/* the default action ends the server */
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 && setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) ||
	    (v6 ? bind(ls, (struct sockaddr *)&sa6, sizeof(sa6))
		: bind(ls, (struct sockaddr *)&sa, sizeof(sa))) < 0 ||
	    listen(ls, 1024) < 0) {
		perror("connlat: listen");
		return 1;
	}
	for (;;) {
		struct timeval tv = { .tv_sec = 2 };
		char c;
		int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (s < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("connlat: accept");
			return 1;
		}
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (recv(s, &c, 1, 0) == 1)
			(void)!send(s, "y", 1, MSG_NOSIGNAL);
		close(s);
	}
}

/* One connection; returns its latency in µs, or -1. */
static double one_conn(const struct sockaddr_storage *sa, socklen_t sa_len, int wait_ms)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd pfd;
	double t0 = now_us(), t = -1;
	int one = 1, err = 0;
	socklen_t len = sizeof(err);
	char c;
	int s = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	pfd.fd = s;
	if (connect(s, (const struct sockaddr *)sa, sa_len) < 0) {
		if (errno != EINPROGRESS)
			goto out;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, wait_ms) != 1 ||
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			goto out;
	}
	if (send(s, "x", 1, MSG_NOSIGNAL) != 1)
		goto out;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, wait_ms) != 1 || recv(s, &c, 1, 0) != 1)
		goto out;
	t = now_us() - t0;
out:
	close(s);		/* SO_LINGER 0: RST, no TIME_WAIT */
	return t;
}

static int client(const char *addr, int port, long count, int seconds, int wait_ms)
{
	struct sockaddr_storage sa = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	socklen_t sa_len;
	double *lat = calloc(count, sizeof(double)), sum = 0, deadline;
	long ok = 0, fail = 0;

	if (!lat)
		return fprintf(stderr, "connlat: out of memory\n"), 1;
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		sa_len = sizeof(*in);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		sa_len = sizeof(*in6);
	} else {
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	deadline = now_us() + seconds * 1e6;
	for (long i = 0; i < count && now_us() < deadline; i++) {
		double t = one_conn(&sa, sa_len, wait_ms);

		if (t < 0) {
			fail++;
			continue;
		}
		lat[ok++] = t;
		sum += t;
	}
	if (!ok) {
		printf("n=0 fail=%ld\n", fail);
		return 1;
	}
	qsort(lat, ok, sizeof(double), cmp_double);
	printf("n=%ld fail=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f min_us=%.1f max_us=%.1f\n",
	       ok, fail, lat[(ok - 1) / 2], lat[ok * 9 / 10 - (ok * 9 % 10 == 0)],
	       lat[ok * 99 / 100 - (ok * 99 % 100 == 0)], sum / ok, lat[0], lat[ok - 1]);
	free(lat);
	return fail || ok < count;
}

int main(int argc, char *argv[])
{
	long count = 2000, listen_port = 0;
	int seconds = -1, wait_ms = 2000, v6 = 0, opt;

	while ((opt = getopt(argc, argv, "l:n:T:w:6")) != -1) {
		switch (opt) {
		case 'l': listen_port = arg_long(optarg, 1, 65535); break;
		case '6': v6 = 1; break;
		case 'n': count = arg_long(optarg, 1, 10000000); break;
		case 'T': seconds = (int)arg_long(optarg, 1, 86400); break;
		case 'w': wait_ms = (int)arg_long(optarg, 1, 60000); break;
		default: usage();
		}
	}
	if (listen_port) {
		if (optind != argc)
			usage();
		return serve((int)listen_port, seconds < 0 ? 600 : seconds, v6);
	}
	if (argc - optind != 2)
		usage();
	return client(argv[optind], (int)arg_long(argv[optind + 1], 1, 65535), count,
		      seconds < 0 ? 60 : seconds, wait_ms);
}
