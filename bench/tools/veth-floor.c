/* SPDX-License-Identifier: MIT */
/*
 * The kernel's floor for one gateway: the wall time of creating one veth pair
 * and of deleting it again (one RTM_NEWLINK, one RTM_DELLINK), in-process, so
 * no process start is counted. `nsgate down` is judged against the delete.
 *   veth-floor RUNS [NETNS_PATH]  -> prints "create_us_p50 N" and "delete_us_p50 N"
 * With NETNS_PATH the peer is created in that namespace, as a gateway's is
 * (deleting a pair that spans two namespaces costs more than one that does not).
 * With a third argument "up", both ends are up and addressed before the
 * delete, as a gateway's are: closing an up device costs the kernel another
 * RCU grace period (dev_deactivate) before the unregister's own.
 * Runs only inside a lab (bench/lab-run.sh): it makes links in its netns.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/link.h"

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

int main(int argc, char *argv[])
{
	int runs = argc > 1 ? atoi(argv[1]) : 50;
	double *mk = calloc(runs, sizeof(double)), *del = calloc(runs, sizeof(double));
	int self = open(argc > 2 ? argv[2] : "/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_sock *sk, *peer_sk = NULL;
	int up = argc > 3 && !strcmp(argv[3], "up");
	struct ip_addr a0 = ip_addr_v4(0x0a090001), a1 = ip_addr_v4(0x0a090002);

	if (!mk || !del || self < 0 || runs < 1 || link_sock_open(&sk) < 0 ||
	    (up && link_sock_open_in(self, &peer_sk) < 0)) {
		fprintf(stderr, "veth-floor: setup failed\n");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_us(), t1, t2;

		if (link_veth_create(sk, "floor0", NULL, "floor1", self, NULL) < 0)
			return fprintf(stderr, "veth-floor: create failed\n"), 1;
		t1 = now_us();
		if (up && (link_addr_add(sk, "floor0", &a0, 30, NULL) < 0 ||
			   link_set_up(sk, "floor0", NULL) < 0 ||
			   link_addr_add(peer_sk, "floor1", &a1, 30, NULL) < 0 ||
			   link_set_up(peer_sk, "floor1", NULL) < 0))
			return fprintf(stderr, "veth-floor: configure failed\n"), 1;
		t1 = now_us();
		if (link_delete(sk, "floor0", NULL) < 0)
			return fprintf(stderr, "veth-floor: delete failed\n"), 1;
		t2 = now_us();
		mk[i] = t1 - t0;
		del[i] = t2 - t1;
	}
	qsort(mk, runs, sizeof(double), cmp_double);
	qsort(del, runs, sizeof(double), cmp_double);
	printf("create_us_p50 %.0f\ndelete_us_p50 %.0f\n", mk[runs / 2], del[runs / 2]);
	link_sock_close(sk);
	return 0;
}
