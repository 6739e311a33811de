package dev.panamio.bench;

import dev.panamio.Backend;
import dev.panamio.EventLoop;

/**
 * Times building an event loop for one backend ({@code Startup EPOLL|IO_URING}): the first one in a fresh JVM
 * (which pays for loading panamio and linking its downcalls), then the mean of 200 more; one JSON line.
 * {@code scripts/bench} runs it in a new JVM per backend.
 */
public final class Startup {
    private Startup() {}

    public static void main(String[] args) {
        for (Backend b : new Backend[] {Backend.valueOf(args[0])}) {
            long t0 = System.nanoTime();
            EventLoop first = EventLoop.builder().backend(b).build();
            long cold = System.nanoTime() - t0;
            first.close();
            int n = 200;
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                EventLoop.builder().backend(b).build().close();
            }
            long warm = (System.nanoTime() - t1) / n;
            System.out.printf("{\"server\":\"panamio-%s\",\"test\":\"startup\",\"round\":1,\"rps\":0,\"cpuMicrosPerRequest\":0,"
                            + "\"userMicrosPerRequest\":0,\"sysMicrosPerRequest\":0,\"p50Micros\":0,\"p99Micros\":0,\"rssKiB\":0,"
                            + "\"allocBytesPerRequest\":null,\"startupColdMicros\":%d,\"startupWarmMicros\":%d}%n",
                    b.name().toLowerCase(), cold / 1000, warm / 1000);
        }
    }
}
