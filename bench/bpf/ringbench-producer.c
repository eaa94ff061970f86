// SPDX-License-Identifier: Apache-2.0
/*
 * ringbench-producer — trigger for bench/bpf/ringbench.bpf.c (test-only).
 *
 * usage: ringbench-producer DURATION_MS CALLS_PER_SEC [filler args...]
 *
 * Waits for one line on stdin (the bench sends it once the BPF program is
 * attached), then calls getppid() for DURATION_MS: as fast as it can when
 * CALLS_PER_SEC is 0, else paced to that rate (catching up in bursts, sleeping
 * 100 us when ahead). The filler arguments only give the exec-shaped records
 * an argv to copy. Prints "calls=N elapsed_ns=T" on stdout at the end.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char line[64];
	uint64_t duration_ns, rate, calls = 0, start, end, now;
	const struct timespec nap = { 0, 100000 };

	if (argc < 3) {
		fprintf(stderr, "usage: %s DURATION_MS CALLS_PER_SEC [filler...]\n", argv[0]);
		return 2;
	}
	duration_ns = strtoull(argv[1], NULL, 10) * 1000000ull;
	rate = strtoull(argv[2], NULL, 10);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	start = now_ns();
	end = start + duration_ns;
	if (rate == 0) {
		do {
			for (int i = 0; i < 64; i++)
				syscall(SYS_getppid);
			calls += 64;
		} while (now_ns() < end);
	} else {
		while ((now = now_ns()) < end) {
			uint64_t due = (now - start) * rate / 1000000000ull;

			if (calls >= due) {
				nanosleep(&nap, NULL);
				continue;
			}
			while (calls < due) {
				syscall(SYS_getppid);
				calls++;
			}
		}
	}
	printf("calls=%llu elapsed_ns=%llu\n", (unsigned long long)calls,
	       (unsigned long long)(now_ns() - start));
	return 0;
}
