package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.onLoop;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The IOCP backend on real Windows sockets (the GitHub Actions windows-latest job runs it): echo through
 * AcceptEx/WSARecv/WSASend, ConnectEx, errors by Winsock name, timeouts and close with I/O in flight.
 */
@LeakChecked
@EnabledOnOs(OS.WINDOWS)
class IocpSmokeTest {
    @Test
    void echoConnectRefusedTimeoutAndClose() throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(Backend.IOCP).readTimeout(Duration.ofSeconds(30)).build().start()) {
            assertThat(loop.backend()).isEqualTo(Backend.IOCP);
            TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, c -> c.startReading((cc, data) -> cc.write(data))));
            byte[] data = new byte[1 << 20];
            new Random(5).nextBytes(data);
            try (Socket s = new Socket()) {
                s.connect(server.localAddress(), 30_000);
                s.setSoTimeout(30_000);
                Thread writer = new Thread(() -> {
                    try {
                        s.getOutputStream().write(data);
                    } catch (Exception ignored) {
                        // the assertion below reports it
                    }
                });
                writer.start();
                InputStream in = s.getInputStream();
                assertThat(in.readNBytes(data.length)).isEqualTo(data);
                writer.join();
            }
            // panamio as the client (ConnectEx) against a JDK server
            try (ServerSocket jdk = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
                CompletableFuture<String> got = new CompletableFuture<>();
                loop.execute(() -> loop.connect((InetSocketAddress) jdk.getLocalSocketAddress(), Duration.ofSeconds(30), (c, e) -> {
                    if (e != null) {
                        got.completeExceptionally(e);
                        return;
                    }
                    c.write("hi".getBytes(), (v, we) -> c.close());
                }));
                try (Socket peer = jdk.accept()) {
                    peer.setSoTimeout(30_000);
                    assertThat(new String(peer.getInputStream().readAllBytes())).isEqualTo("hi");
                }
            }
            int closedPort;
            try (ServerSocket tmp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                closedPort = tmp.getLocalPort();
            }
            CompletableFuture<Throwable> refused = new CompletableFuture<>();
            loop.execute(() -> loop.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), closedPort),
                    Duration.ofSeconds(30), (c, e) -> refused.complete(e)));
            Throwable e = refused.get(60, TimeUnit.SECONDS);
            assertThat(e).isInstanceOf(NativeIoException.class);
            assertThat(((NativeIoException) e).errorName()).isIn("WSAECONNREFUSED", "ERROR_CONNECTION_REFUSED");

            // A read that times out, and a read still in flight when the loop closes.
            try (Socket silent = new Socket()) {
                CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
                TcpServer s2 = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
                silent.connect(s2.localAddress(), 30_000);
                TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
                CompletableFuture<Throwable> timedOut = new CompletableFuture<>();
                loop.execute(() -> c.read(Duration.ofMillis(200), new ReadHandler() {
                    @Override
                    public void onData(TcpConnection conn, Buffer d) {
                        d.release();
                    }

                    @Override
                    public void onError(TcpConnection conn, Throwable error) {
                        timedOut.complete(error);
                    }
                }));
                assertThat(timedOut.get(30, TimeUnit.SECONDS)).isInstanceOf(OperationTimeoutException.class);
                CompletableFuture<Throwable> atClose = new CompletableFuture<>();
                loop.execute(() -> c.read(Timeout.NONE, new ReadHandler() {
                    @Override
                    public void onData(TcpConnection conn, Buffer d) {
                        d.release();
                    }

                    @Override
                    public void onError(TcpConnection conn, Throwable error) {
                        atClose.complete(error);
                    }
                }));
                Thread.sleep(100);
                loop.close();
                assertThat(atClose.get(30, TimeUnit.SECONDS)).isInstanceOf(ClosedException.class);
            }
        }
    }
}
