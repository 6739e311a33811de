package dev.panamio.http;

import dev.panamio.Backend;
import dev.panamio.EventLoop;
import dev.panamio.NativeIoException;
import dev.panamio.OperationTimeoutException;
import dev.panamio.testing.LeakChecked;

import static dev.panamio.testing.Loops.onLoop;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP server against the JDK's HttpClient and raw sockets, and the HTTP client against the JDK's
 * built-in HttpServer, on each Linux backend.
 */
@LeakChecked
class HttpTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private static HttpServer echoServer(EventLoop loop) throws Exception {
        return onLoop(loop, () -> HttpServer.listen(loop, LOCAL, (req, res) -> {
            if (req.target().equals("/slow")) {
                loop.setTimeout(Duration.ofMillis(100), () -> res.send("slow"));
            } else if (req.target().equals("/bye")) {
                res.header("Connection", "close").send("bye");
            } else if (req.target().equals("/boom")) {
                throw new IllegalStateException("handler failed");
            } else if (req.target().equals("/headers")) {
                res.send(req.headers().get("user-agent") + "|" + req.headers().get("accept") + "|" + req.headers().get("x-custom"));
            } else {
                res.header("X-Method", req.method()).send(req.method() + " " + req.target() + " " + req.bodyText());
            }
        }));
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void jdkHttpClientTalksToTheServer(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            URI base = URI.create("http://127.0.0.1:" + server.localAddress().getPort());
            try (var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
                for (int i = 0; i < 3; i++) { // keep-alive: one connection, several exchanges
                    var r = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/hello?i=" + i)).build(), BodyHandlers.ofString());
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo("GET /hello?i=" + i + " ");
                    assertThat(r.headers().firstValue("x-method")).hasValue("GET");
                }
                var post = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/post"))
                        .POST(BodyPublishers.ofString("payload")).build(), BodyHandlers.ofString());
                assertThat(post.body()).isEqualTo("POST /post payload");
                var boom = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/boom")).build(), BodyHandlers.ofString());
                assertThat(boom.statusCode()).isEqualTo(500);
            }
            onLoop(loop, () -> {
                server.close();
                return null;
            });
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void pipelinedRequestsAreAnsweredInOrderAndBadOnesRejected(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            try (Socket s = client(server)) {
                // The first answer comes last from its handler; responses must still go out in request order.
                String three = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                s.getOutputStream().write(three.getBytes(StandardCharsets.US_ASCII));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(all.indexOf("slow")).isLessThan(all.indexOf("GET /a"));
                assertThat(all.indexOf("GET /a")).isLessThan(all.indexOf("POST /b xyz"));
                assertThat(all.indexOf("POST /b xyz")).isLessThan(all.indexOf("GET /c"));
                assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(5);
            }
            assertThat(rawExchange(server, "GARBAGE\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(rawExchange(server, "GET / HTTP/1.1\r\nX: " + "a".repeat(9000) + "\r\n\r\n")).startsWith("HTTP/1.1 431 ");
            assertThat(rawExchange(server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")).startsWith("HTTP/1.1 501 ");
            assertThat(rawExchange(server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")).startsWith("HTTP/1.1 413 ");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void requestsThatTwoParsersCouldReadDifferentlyAreRefused(Backend backend) throws Exception {
        // Each of these is how one request turns into two (or a body into a request) between a proxy and a
        // server that disagree: answered with an error, and the connection closed (rawExchange reads to EOF).
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            String[][] cases = {
                {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "400"},                        // space before the colon
                {"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", "400"},           // a folded line
                {"GET / HTTP/1.1\r\nHost: x\r\nX: a\nContent-Length: 5\r\n\r\n", "400"}, // a bare LF
                {"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", "400"},                // a bare CR
                {"GET / HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n", "400"},            // NUL
                {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "400"},               // two Hosts
                {"GET / HTTP/1.1\r\nX: y\r\n\r\n", "400"},                              // no Host in 1.1
                {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", "400"}, // a signed length
                {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "400"}, // not last
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},     // chunked in 1.0
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!0\r\n\r\n", "400"}, // no CRLF after the data
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n", "400"}, // bare LF
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n000000005\r\nhello\r\n0\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n", "413"},  // 2 MiB chunk
                // extensions are dropped, but not without limit: 3 KB of them on each 1-byte chunk
                {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + ("1;e=" + "x".repeat(3000) + "\r\na\r\n").repeat(3) + "0\r\n\r\n", "413"},
                {"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", "400"},                        // a space in the target
                {"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", "400"},                           // not a token
                {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505"},
                {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", "400"},
                {"POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\na", "417"},
            };
            for (String[] c : cases) {
                String answer = rawExchange(server, c[0]);
                assertThat(answer).as("answer to %s", c[0].replace("\r", "\\r").replace("\n", "\\n"))
                        .startsWith("HTTP/1.1 " + c[1] + " ").contains("\r\nConnection: close\r\n");
                assertThat(answer.split("HTTP/1.1 ", -1)).as("one answer to %s", c[0]).hasSize(2);
            }
            // A handler that answers with Connection: close ends the connection there: what was pipelined after
            // it is not answered.
            String bye = rawExchange(server, "GET /bye HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(bye).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\nbye");
            assertThat(bye.split("HTTP/1.1 ", -1)).hasSize(2);
            // Accepted: HTTP/1.0 without Host, empty lines before a request line, any case in field names,
            // spaces and tabs around a value.
            assertThat(rawExchange(server, "GET /old HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200 ").endsWith("GET /old ");
            assertThat(rawExchange(server, "\r\n\r\nPOST /p HTTP/1.1\r\nhOsT: x\r\nCONTENT-length:\t 2 \t\r\n"
                    + "Connection: close\r\n\r\nhi")).startsWith("HTTP/1.1 200 ").endsWith("POST /p hi");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void headAndHttp10AndExpectContinueAreAnsweredAsClientsExpect(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            try (Socket s = client(server)) {
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                // HEAD: the length the GET body would have, and no body (the next response follows at once).
                out.write("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nContent-Length: 8\r\n")
                        .containsPattern("\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n");
                // Expect: 100-continue: the interim answer comes before the body is sent.
                out.write("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(in)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
                out.write("body".getBytes(StandardCharsets.US_ASCII));
                String post = readHead(in);
                assertThat(post).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 12\r\n");
                assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("POST /e body");
            }
            try (Socket s = client(server)) {
                // An expectation behind an answer still due: the interim answer follows that answer, not before.
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /late HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(in)).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 4\r\n");
                assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("slow");
                assertThat(readHead(in)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
                out.write("ok".getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(in)).startsWith("HTTP/1.1 200 OK\r\n");
                assertThat(new String(in.readNBytes(13), StandardCharsets.US_ASCII)).isEqualTo("POST /late ok");
            }
            try (Socket s = client(server)) {
                // HTTP/1.0 keeps the connection only when asked, and the answer says so.
                s.getOutputStream().write("GET /k HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(s.getInputStream())).contains("\r\nConnection: keep-alive\r\n");
                assertThat(new String(s.getInputStream().readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("GET /k ");
                s.getOutputStream().write("GET /l HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String last = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(last).contains("\r\nConnection: close\r\n").endsWith("GET /l ");
            }
            // The JDK client's expect-continue exchange.
            try (var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
                var r = client.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.localAddress().getPort() + "/x")).expectContinue(true)
                        .POST(BodyPublishers.ofString("data")).build(), BodyHandlers.ofString());
                assertThat(r.body()).isEqualTo("POST /x data");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void requestsCutAtEveryByteAreReadTheSame(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            String requests = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
                    + "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            String all = trickle(server, requests, 11);
            assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(4);
            assertThat(all).contains("GET /1 ").contains("POST /2 0123456789").endsWith("GET /3 ");
        }
    }

    /** Sends {@code requests} in pieces of 1 to 4 bytes (mostly a read each) and returns all that comes back. */
    private static String trickle(HttpServer server, String requests, long seed) throws Exception {
        byte[] bytes = requests.getBytes(StandardCharsets.US_ASCII);
        java.util.Random random = new java.util.Random(seed);
        try (Socket s = client(server)) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < bytes.length; ) {
                int n = Math.min(bytes.length - i, 1 + random.nextInt(4));
                out.write(bytes, i, n);
                out.flush();
                i += n;
                Thread.sleep(1);
            }
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void chunkedRequestBodiesAreDecodedHoweverTheyArriveAndCountAgainstTheBudget(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            // Chunks with extensions and trailer fields, pipelined between other requests, cut at every few bytes.
            String requests = "POST /1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n1;name=\"v\"\r\n \r\nA \t\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
                    + "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "PUT /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n0\r\n\r\n";
            String all = trickle(server, requests, 5);
            assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(4);
            assertThat(all).contains("POST /1 hello 0123456789").contains("GET /2 ").endsWith("PUT /3 ");
            // Real clients that stream a body of unknown length send it chunked: the JDK's, with and without
            // an expectation, 300 KB in many chunks.
            byte[] big = new byte[300_000];
            new java.util.Random(9).nextBytes(big);
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) ('a' + (big[i] & 15));
            }
            URI uri = URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/stream");
            try (var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
                for (boolean expect : new boolean[] {false, true}) {
                    var r = client.send(java.net.http.HttpRequest.newBuilder(uri).expectContinue(expect)
                            .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build(),
                            BodyHandlers.ofString());
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo("POST /stream " + new String(big, StandardCharsets.US_ASCII));
                }
            }
            // A chunked body larger than a request may be is refused as it grows past the limit.
            try (Socket s = client(server)) {
                OutputStream out = s.getOutputStream();
                out.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String chunk = "10000\r\n" + "x".repeat(0x10000) + "\r\n";
                try {
                    for (int i = 0; i < 17; i++) { // 1 MiB + 64 KiB
                        out.write(chunk.getBytes(StandardCharsets.US_ASCII));
                    }
                } catch (java.io.IOException refusedAlready) {
                    // the server may have answered and stopped reading before the last chunks
                }
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 413 ");
            }
        }
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            // Decoded bytes of a chunked body still waiting for its end count against the server's budget.
            HttpServer server = onLoop(loop, () -> HttpServer.listen(loop, LOCAL,
                    HttpServerOptions.defaults().withMaxBufferedBytes(64 * 1024), (req, res) -> res.send("got " + req.body().length)));
            String chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "9c40\r\n" + "y".repeat(40_000) + "\r\n";
            try (Socket a = client(server); Socket b = client(server)) {
                a.getOutputStream().write(chunked.getBytes(StandardCharsets.US_ASCII));
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (onLoop(loop, server::bufferedBytes) < 40_000 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(onLoop(loop, server::bufferedBytes)).isEqualTo(40_000);
                b.getOutputStream().write(chunked.getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(b.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 503 ");
                a.getOutputStream().write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(a.getInputStream())).startsWith("HTTP/1.1 200 ");
                assertThat(new String(a.getInputStream().readNBytes(9), StandardCharsets.US_ASCII)).isEqualTo("got 40000");
                assertThat(onLoop(loop, server::bufferedBytes)).isZero();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void aRequestThatTricklesInMeets408AtItsDeadlineThoughEachByteComesInTime(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).readTimeout(Duration.ofSeconds(30)).build().start()) {
            HttpServer server = onLoop(loop, () -> HttpServer.listen(loop, LOCAL,
                    HttpServerOptions.defaults().withRequestTimeout(Duration.ofMillis(800)), (req, res) -> res.send("ok")));
            try (Socket s = client(server)) {
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                // A whole request first (answered), then one that never ends: a byte every 100 ms, far within
                // the read timeout, yet its own deadline runs from its first byte.
                out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                long started = System.nanoTime();
                InputStream in = s.getInputStream();
                assertThat(readHead(in)).startsWith("HTTP/1.1 200 ");
                assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
                String answer = null;
                for (int i = 0; i < 300 && answer == null; i++) {
                    try {
                        out.write('X');
                        out.flush();
                    } catch (java.io.IOException closed) {
                        break; // the server closed after answering: read what it said
                    }
                    Thread.sleep(100);
                    if (in.available() > 0) {
                        answer = readHead(in);
                    }
                }
                if (answer == null) {
                    answer = readHead(in);
                }
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertThat(answer).startsWith("HTTP/1.1 408 ").contains("\r\nConnection: close\r\n");
                assertThat(millis).as("time to the 408 (deadline 800 ms; bytes kept coming)").isGreaterThanOrEqualTo(700);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void noRequestDeadlineRunsWhileTheServerItselfHasStoppedReading(Backend backend) throws Exception {
        // 64 pipelined requests whose answers take 2.5 s stop the server reading; the request cut after them
        // waits on the server, not on the client, so its 1-s deadline must not run until reading resumes.
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = onLoop(loop, () -> HttpServer.listen(loop, LOCAL,
                    HttpServerOptions.defaults().withRequestTimeout(Duration.ofSeconds(1)), (req, res) -> {
                        if (req.target().equals("/slow")) {
                            loop.setTimeout(Duration.ofMillis(2500), () -> res.send("s"));
                        } else {
                            res.send("done");
                        }
                    }));
            try (Socket s = client(server)) {
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".repeat(HttpServer.MAX_PIPELINED) + "GET /last HTTP/1.1\r\nHo")
                        .getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < HttpServer.MAX_PIPELINED; i++) {
                    assertThat(readHead(in)).as("answer %d", i).startsWith("HTTP/1.1 200 ");
                    assertThat(in.read()).isEqualTo('s');
                }
                out.write("st: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(in)).startsWith("HTTP/1.1 200 ");
                assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("done");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void stalledBodiesBeyondTheServersBudgetAreRefusedAndTheCountComesBackToZero(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = onLoop(loop, () -> HttpServer.listen(loop, LOCAL,
                    HttpServerOptions.defaults().withMaxBufferedBytes(64 * 1024), (req, res) -> res.send("got " + req.body().length)));
            byte[] head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            byte[] part = new byte[30_000];
            Socket[] clients = new Socket[3];
            try {
                for (int i = 0; i < 3; i++) {
                    clients[i] = client(server);
                    clients[i].getOutputStream().write(head);
                    clients[i].getOutputStream().write(part);
                    if (i < 2) {
                        // The heads are parsed (and dropped from the buffer) at once; the bodies' bytes wait.
                        long want = (i + 1) * 30_000L;
                        long deadline = System.nanoTime() + 30_000_000_000L;
                        while (onLoop(loop, server::bufferedBytes) < want && System.nanoTime() < deadline) {
                            Thread.sleep(10);
                        }
                        assertThat(onLoop(loop, server::bufferedBytes)).as("buffered after client %d", i).isEqualTo(want);
                    }
                }
                // The third client held more than a head's worth while the server was over its budget.
                String third = new String(clients[2].getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(third).startsWith("HTTP/1.1 503 ");
                assertThat(onLoop(loop, server::bufferedBytes)).isLessThanOrEqualTo(64 * 1024);
                // The first two finish their bodies and are answered.
                for (int i = 0; i < 2; i++) {
                    clients[i].getOutputStream().write(new byte[10_000]);
                    String answer = readHead(clients[i].getInputStream());
                    assertThat(answer).startsWith("HTTP/1.1 200 ");
                    assertThat(new String(clients[i].getInputStream().readNBytes(9), StandardCharsets.US_ASCII)).isEqualTo("got 40000");
                }
                assertThat(onLoop(loop, server::bufferedBytes)).isZero();
                // A client that closes halfway through a body gives its bytes back too.
                clients[0].getOutputStream().write(head);
                clients[0].getOutputStream().write(part);
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (onLoop(loop, server::bufferedBytes) < 30_000 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                clients[0].close();
                while (onLoop(loop, server::bufferedBytes) > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(onLoop(loop, server::bufferedBytes)).isZero();
            } finally {
                for (Socket c : clients) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
        }
    }

    /** A socket connected to {@code server}, whose reads give up after 30 s. */
    private static Socket client(HttpServer server) throws java.io.IOException {
        Socket s = new Socket();
        try {
            s.connect(server.localAddress(), 30_000);
            s.setSoTimeout(30_000);
            return s;
        } catch (java.io.IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Reads up to and including the blank line that ends a response head. */
    private static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("connection closed after " + sb);
            }
            sb.append((char) b);
        }
        return sb.toString();
    }

    @org.junit.jupiter.api.Test
    void theDateOfResponsesFollowsTheWallClock() throws Exception {
        // The server reads the wall clock once per second and goes by the loop's clock in between.
        try (EventLoop loop = EventLoop.builder().build().start()) {
            HttpServer server = echoServer(loop);
            long[] seen = new long[2];
            for (int i = 0; i < 2; i++) {
                String answer = rawExchange(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                long now = System.currentTimeMillis() / 1000;
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\r\nDate: ([^\r]+)\r\n").matcher(answer);
                assertThat(m.find()).as("a Date in %s", answer).isTrue();
                seen[i] = java.time.ZonedDateTime.parse(m.group(1), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
                assertThat(seen[i]).isBetween(now - 2, now);
                Thread.sleep(1500);
            }
            assertThat(seen[1]).as("a second and a half later").isGreaterThan(seen[0]);
        }
    }

    @org.junit.jupiter.api.Test
    void theDateIsAnImfFixdate() {
        assertThat(new String(HttpDate.format(0), StandardCharsets.US_ASCII)).isEqualTo("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        assertThat(new String(HttpDate.format(1_780_282_800L), StandardCharsets.US_ASCII)).isEqualTo("Date: Mon, 01 Jun 2026 03:00:00 GMT\r\n");
    }

    private static String rawExchange(HttpServer server, String request) throws Exception {
        try (Socket s = client(server)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII); // the server closes after an error
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void clientFetchesFromTheJdkHttpServer(Backend backend) throws Exception {
        com.sun.net.httpserver.HttpServer jdk = com.sun.net.httpserver.HttpServer.create(LOCAL, 0);
        byte[] big = new byte[200_000];
        new java.util.Random(3).nextBytes(big);
        jdk.createContext("/fixed", x -> {
            byte[] b = "fixed length body".getBytes(StandardCharsets.US_ASCII);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        jdk.createContext("/chunked", x -> {
            x.sendResponseHeaders(200, 0); // length 0: the JDK server sends a chunked body
            x.getResponseBody().write(big);
            x.close();
        });
        jdk.createContext("/echo", x -> {
            byte[] method = (x.getRequestMethod() + " ").getBytes(StandardCharsets.US_ASCII);
            byte[] body = x.getRequestBody().readAllBytes();
            x.sendResponseHeaders(200, method.length + body.length);
            x.getResponseBody().write(method);
            x.getResponseBody().write(body);
            x.close();
        });
        jdk.createContext("/missing", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        jdk.start();
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            URI base = URI.create("http://127.0.0.1:" + jdk.getAddress().getPort());
            HttpClientResponse fixed = fetch(loop, base.resolve("/fixed"));
            assertThat(fixed.status()).isEqualTo(200);
            assertThat(fixed.bodyText()).isEqualTo("fixed length body");
            HttpClientResponse chunked = fetch(loop, base.resolve("/chunked"));
            assertThat(chunked.header("Transfer-Encoding")).isEqualToIgnoringCase("chunked");
            assertThat(chunked.body()).isEqualTo(big);
            assertThat(fetch(loop, base.resolve("/missing")).status()).isEqualTo(404);
            byte[] echoed = send(loop, "POST", base.resolve("/echo"), Map.of("Content-Type", "application/octet-stream"), big).body();
            assertThat(java.util.Arrays.copyOfRange(echoed, 0, 5)).isEqualTo("POST ".getBytes(StandardCharsets.US_ASCII));
            assertThat(java.util.Arrays.copyOfRange(echoed, 5, echoed.length)).isEqualTo(big);
            // localhost goes through a name lookup on the blocking pool
            assertThat(fetch(loop, URI.create("http://localhost:" + jdk.getAddress().getPort() + "/fixed")).bodyText())
                    .isEqualTo("fixed length body");
        } finally {
            jdk.stop(0);
        }
    }

    private static HttpClientResponse send(EventLoop loop, String method, URI uri, Map<String, String> headers, byte[] body)
            throws Exception {
        return await(loop, () -> HttpClient.request(loop, method, uri, headers, body, Duration.ofSeconds(30)));
    }

    /** Starts {@code call} on the loop thread and waits for its response. */
    private static HttpClientResponse await(EventLoop loop,
                                            java.util.function.Supplier<java.util.concurrent.CompletionStage<HttpClientResponse>> call)
            throws Exception {
        CompletableFuture<HttpClientResponse> f = new CompletableFuture<>();
        loop.execute(() -> call.get().whenComplete((r, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(r);
            }
        }));
        return f.get(60, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void clientSendsAnyMethodWithItsHeaderFieldsAndBody(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            HttpServer server = echoServer(loop);
            URI uri = URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/things?id=7");
            HttpClientResponse post = send(loop, "POST", uri, Map.of("Content-Type", "text/plain"), "payload".getBytes(StandardCharsets.UTF_8));
            assertThat(post.status()).isEqualTo(200);
            assertThat(post.header("X-Method")).isEqualTo("POST");
            assertThat(post.bodyText()).isEqualTo("POST /things?id=7 payload");
            assertThat(send(loop, "PUT", uri, Map.of(), new byte[0]).bodyText()).isEqualTo("PUT /things?id=7 ");
            assertThat(send(loop, "DELETE", uri, Map.of(), null).bodyText()).isEqualTo("DELETE /things?id=7 ");
            // HEAD: the length the GET body would have, and no body to wait for.
            HttpClientResponse head = send(loop, "HEAD", uri, Map.of(), null);
            assertThat(head.header("content-length")).isEqualTo(String.valueOf("HEAD /things?id=7 ".length()));
            assertThat(head.body()).isEmpty();
            // The caller's fields go out; User-Agent and Accept replace the defaults.
            URI headers = uri.resolve("/headers");
            assertThat(send(loop, "GET", headers, Map.of("X-Custom", "v 1"), null).bodyText()).isEqualTo("panamio|*/*|v 1");
            assertThat(send(loop, "GET", headers, Map.of("user-agent", "ua/2", "Accept", "text/plain"), null).bodyText())
                    .isEqualTo("ua/2|text/plain|null");
            // Refused before anything is sent: a method or name that is not a token, a value that could end the
            // field (header injection), the fields that frame the message or name the host.
            for (Object[] bad : new Object[][] {{"GE T", Map.of()}, {"", Map.of()}, {"GET", Map.of("X Y", "v")},
                {"GET", Map.of("X", "a\r\nInjected: 1")}, {"GET", Map.of("X", "a\nb")}, {"GET", Map.of("Host", "evil")},
                {"GET", Map.of("Content-Length", "5")}, {"GET", Map.of("transfer-encoding", "chunked")}}) {
                @SuppressWarnings("unchecked")
                Map<String, String> fields = (Map<String, String>) bad[1];
                CompletableFuture<Throwable> thrown = new CompletableFuture<>();
                loop.execute(() -> {
                    try {
                        HttpClient.request(loop, (String) bad[0], uri, fields, null, Duration.ofSeconds(5), (r, e) -> thrown.complete(null));
                    } catch (IllegalArgumentException expected) {
                        thrown.complete(expected);
                    }
                });
                assertThat(thrown.get(30, TimeUnit.SECONDS)).as("%s %s", bad[0], fields).isInstanceOf(IllegalArgumentException.class);
            }
        }
    }

    private static HttpClientResponse fetch(EventLoop loop, URI uri) throws Exception {
        return await(loop, () -> HttpClient.get(loop, uri, Duration.ofSeconds(30)));
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void clientErrorsAreNamedAndTimelyAndPanamioTalksToItself(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start();
             ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int closedPort;
            try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                closedPort = s.getLocalPort();
            }
            Throwable refused = error(loop, URI.create("http://127.0.0.1:" + closedPort + "/"), Duration.ofSeconds(30));
            assertThat(refused).isInstanceOf(NativeIoException.class);
            assertThat(((NativeIoException) refused).errorName()).isEqualTo("ECONNREFUSED");
            // A server that accepts and never answers: the exchange's deadline ends it.
            Throwable timedOut = error(loop, URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/"), Duration.ofMillis(300));
            assertThat(timedOut).isInstanceOf(OperationTimeoutException.class).hasMessageContaining("GET http://127.0.0.1");

            HttpServer server = echoServer(loop);
            HttpClientResponse r = fetch(loop, URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/self"));
            assertThat(r.bodyText()).isEqualTo("GET /self ");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void clientDecodesChunksCutAnywhereAndRefusesHostileResponses(Backend backend) throws Exception {
        java.util.Random random = new java.util.Random(17);
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        StringBuilder chunked = new StringBuilder("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 300; i++) {
            byte[] chunk = new byte[1 + random.nextInt(3000)];
            for (int k = 0; k < chunk.length; k++) {
                chunk[k] = (byte) ('a' + random.nextInt(26));
            }
            expected.write(chunk);
            chunked.append(Integer.toHexString(chunk.length)).append(i % 7 == 0 ? ";ext=" + i : "").append("\r\n")
                    .append(new String(chunk, StandardCharsets.ISO_8859_1)).append("\r\n");
        }
        chunked.append("0\r\nX-Trailer: t\r\n\r\n");
        String hugeHead = "HTTP/1.1 200 OK\r\n" + ("X-Filler: " + "a".repeat(100) + "\r\n").repeat(1000);
        java.util.Map<String, String> script = java.util.Map.of(
                "/chunked", chunked.toString(),
                "/huge-head", hugeHead, // and no end: the client must give up by size, not by deadline
                "/signed-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
                "/signed-length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
                "/early-hints", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                "/interim-flood", "HTTP/1.1 103 Early Hints\r\n\r\n".repeat(20));
        try (ServerSocket scripted = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            Thread server = new Thread(() -> {
                while (!scripted.isClosed()) {
                    try (Socket s = scripted.accept()) {
                        s.setTcpNoDelay(true);
                        String head = readHead(s.getInputStream());
                        String path = head.substring(4, head.indexOf(' ', 4));
                        byte[] answer = script.get(path).getBytes(StandardCharsets.ISO_8859_1);
                        OutputStream out = s.getOutputStream();
                        for (int i = 0; i < answer.length; ) { // cut anywhere: in sizes, in CRLFs, in data
                            int n = Math.min(answer.length - i, 1 + random.nextInt(700));
                            out.write(answer, i, n);
                            out.flush();
                            i += n;
                            if (random.nextInt(20) == 0) {
                                Thread.sleep(1);
                            }
                        }
                        if (path.equals("/huge-head")) {
                            s.getInputStream().read(); // hold the connection open until the client gives up
                        }
                    } catch (Exception e) {
                        // the next exchange, or the end
                    }
                }
            });
            server.start();
            String base = "http://127.0.0.1:" + scripted.getLocalPort();
            HttpClientResponse r = fetch(loop, URI.create(base + "/chunked"));
            assertThat(r.body()).isEqualTo(expected.toByteArray());
            Throwable huge = error(loop, URI.create(base + "/huge-head"), Duration.ofSeconds(60));
            assertThat(huge).isInstanceOf(java.io.IOException.class).hasMessageContaining("head larger than");
            assertThat(error(loop, URI.create(base + "/signed-chunk"), Duration.ofSeconds(60)))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining("bad chunk size");
            assertThat(error(loop, URI.create(base + "/signed-length"), Duration.ofSeconds(60)))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining("bad Content-Length");
            // Interim responses are skipped (not taken for the answer), but not without end.
            HttpClientResponse hinted = fetch(loop, URI.create(base + "/early-hints"));
            assertThat(hinted.status()).isEqualTo(200);
            assertThat(hinted.bodyText()).isEqualTo("ok");
            assertThat(error(loop, URI.create(base + "/interim-flood"), Duration.ofSeconds(60)))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining("interim responses");
            scripted.close();
            server.join(30_000);
        }
    }

    private static Throwable error(EventLoop loop, URI uri, Duration timeout) throws Exception {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        loop.execute(() -> HttpClient.get(loop, uri, timeout, (r, e) -> f.complete(e)));
        return f.get(60, TimeUnit.SECONDS);
    }
}
