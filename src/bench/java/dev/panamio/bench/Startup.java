package dev.panamio.bench;

import dev.panamio.Backend;
import dev.panamio.EventLoop;

/** Times {@code EventLoop.create()} (first in a fresh JVM, then warm) for each Linux backend; JSON lines. */
public final class Startup {
    private Startup() {}

    public static void main(String[] args) {
        for (Backend b : new Backend[] {Backend.EPOLL, Backend.IO_URING}) {
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
