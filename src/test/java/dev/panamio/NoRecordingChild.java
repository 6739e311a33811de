package dev.panamio;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Child JVM of {@link JfrEventsTest}: an echo round trip, a timer and a timeout, then exit. */
public final class NoRecordingChild {
    private NoRecordingChild() {}

    public static void main(String[] args) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(Backend.valueOf(args[0])).build().start()) {
            CompletableFuture<TcpServer> listening = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    listening.complete(loop.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                            conn -> conn.startReading((c, data) -> c.write(data))));
                } catch (Exception e) {
                    listening.completeExceptionally(e);
                }
            });
            TcpServer server = listening.get(60, TimeUnit.SECONDS);
            try (Socket s = new Socket()) {
                s.connect(server.localAddress(), 60_000);
                s.getOutputStream().write("ping".getBytes());
                System.out.println("echo " + new String(s.getInputStream().readNBytes(4)));
            }
            loop.delay(java.time.Duration.ofMillis(10)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }
}
